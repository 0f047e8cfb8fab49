// The task params contract (common/src/task-params.ts): what central writes passes, what the pipeline
// would refuse is refused up front with the field named, and the schema agrees with the pipeline and masks.
import { describe, expect, it } from 'vitest';
import { parseMaskRule } from '../../common/src/mask.js';
import { parseTaskParams } from '../../common/src/task-params.js';
import { taskFields } from '../../central/src/domain/catalog.js';
import { compilePipeline } from '../../node-agent/src/pipeline/index.js';

describe('task params', () => {
  it('task params - what a subscription writes passes unchanged', () => {
    const fields = taskFields(
      [
        { name: 'id', type: 'integer', required: true, sensitive: false, description: '' },
        {
          name: 'sfzh',
          column: 'id_no',
          type: 'string',
          required: false,
          sensitive: true,
          mask: 'idcard',
          description: '',
        },
        { name: 'xm', type: 'string', required: false, sensitive: true, description: '' },
      ],
      ['id', 'sfzh', 'xm'],
    );
    const params = {
      fields,
      agreementId: 'agr-1',
      allowedFields: ['id', 'sfzh', 'xm'],
      agreementValidUntil: 1_900_000_000_000,
      filters: [{ field: 'id', op: '>', value: 3 }],
    };
    const r = parseTaskParams(JSON.stringify(params));
    expect(r).toEqual({ ok: true, params });
    expect(fields).toEqual([
      { name: 'id', type: 'integer', required: true },
      { name: 'id_no', as: 'sfzh', type: 'string', required: false, mask: 'idcard' },
      { name: 'xm', type: 'string', required: false, mask: 'redact' },
    ]);
  });

  it('task params - empty text is no params; keys outside the contract are carried', () => {
    expect(parseTaskParams('')).toEqual({ ok: true, params: {} });
    expect(parseTaskParams({ table: 'people', batch: 50 })).toEqual({
      ok: true,
      params: { table: 'people', batch: 50 },
    });
  });

  it('task params - the problems are reported at once (up to 8), naming their fields', () => {
    const r = parseTaskParams({
      fields: [{ name: 'id', type: 'int' }, { name: '' }, { name: 'p', mask: 'stars' }, { name: 'q', requird: true }],
      filters: [{ field: 'id', op: '~' }],
      maxRecordBytes: -1,
      allowedFields: 'id',
    });
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.errors.sort()).toEqual(
      [
        'fields[0].type: must be one of string, integer, number, decimal, boolean, date, time, datetime, timestamptz, binary, json',
        'fields[1].name: must not have fewer than 1 characters',
        'fields[2].mask: unknown masking rule (name, idcard, phone, redact, keep:A:B)',
        'fields[3].requird: unknown key',
        'filters[0].op: must be one of = != > >= < <= in notnull prefix',
        'maxRecordBytes: must be >= 0',
        'allowedFields: must be array',
      ].sort(),
    );
  });

  it('task params - meaning the schema cannot say: one output name per field, in takes a list', () => {
    expect(
      parseTaskParams({
        fields: [{ name: 'a', as: 'x' }, { name: 'x' }],
        filters: [{ field: 'a', op: 'in', value: 3 }],
      }),
    ).toEqual({
      ok: false,
      errors: [
        'fields[1]: a second field sent as x (two fields map to the same output name)',
        'filters[0].value: "in" needs a list',
      ],
    });
  });

  it('task params - not JSON, not an object, not integers', () => {
    expect(parseTaskParams({ batchRecords: 1.5, pollIntervalMs: '5' })).toEqual({
      ok: false,
      errors: ['batchRecords: must be integer', 'pollIntervalMs: must be integer'],
    });
    const bad = parseTaskParams('{"fields": [');
    expect(bad.ok === false && bad.errors[0]).toMatch(/^\(params\): not JSON: /);
    expect(parseTaskParams('[1]')).toEqual({ ok: false, errors: ['(params): must be object'] });
  });

  it('task params - the mask rules accepted are exactly those the masking accepts', () => {
    for (const rule of [
      'name',
      'idcard',
      'phone',
      'redact',
      'keep:1:2',
      'keep:123:0',
      'keep:1',
      'keep:1234:1',
      'Name',
      'phone ',
      '',
    ]) {
      const schemaSays = parseTaskParams({ fields: [{ name: 'a', mask: rule }] }).ok;
      expect(schemaSays, rule).toBe(parseMaskRule(rule) !== undefined);
    }
  });

  it('task params - what the schema accepts the pipeline compiles, what the pipeline refuses the schema refuses', () => {
    const good = parseTaskParams({
      fields: [{ name: 'a', type: 'decimal', maxLength: 9, mask: 'keep:1:1', required: true }],
      filters: [{ field: 'a', op: 'in', value: [1] }],
      maxRecordBytes: 0,
    });
    expect(good.ok).toBe(true);
    if (good.ok) expect(compilePipeline(good.params).columns).toEqual(['a']);
    for (const spec of [
      { fields: [{ name: 'a', type: 'text' }] },
      { fields: [{ name: 'a', mask: 'x' }] },
      { fields: [{ name: 'a' }, { name: 'a' }] },
      { filters: [{ field: 'a', op: 'in', value: 1 }] },
    ]) {
      expect(() => compilePipeline(spec as never), JSON.stringify(spec)).toThrow();
      expect(parseTaskParams(spec).ok, JSON.stringify(spec)).toBe(false);
    }
  });
});
