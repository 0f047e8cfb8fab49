// Which source bindings an agent declares as spreadable (dynamic node allocation): incremental sources of the
// connector types that read key-hash shards, by any name the registry accepts for them (mysql is mariadb).
import { describe, expect, it } from 'vitest';
import { spreadableBindings } from '../../node-agent/src/control/health.js';

describe('spreadable bindings', () => {
  it('spreadable bindings - incremental SQL sources of every shardable type and alias, nothing else', () => {
    const sources = {
      lite: { type: 'sqlite', path: '/x.db', table: 't', key: 'id', cursor: 'id' },
      pg: { type: 'postgres', table: 't', key: 'id', cursor: 'updated_at' },
      maria: { type: 'mariadb', table: 't', key: 'id', cursor: 'id' },
      my: { type: 'mysql', table: 't', key: 'id', cursor: 'id' },
      fullSync: { type: 'postgres', table: 't', key: 'id' },
      emptyCursor: { type: 'sqlite', path: '/x.db', table: 't', key: 'id', cursor: '' },
      csv: { type: 'csv', dir: '/in', key: 'id', cursor: 'id' },
      files: { type: 'files', dir: '/in' },
      unknown: { type: 'oracle', table: 't', key: 'id', cursor: 'id' },
      inherited: { type: 'toString', cursor: 'id' },
      broken: null,
    };
    expect(spreadableBindings(sources)).toEqual(['lite', 'maria', 'my', 'pg']);
  });
});
