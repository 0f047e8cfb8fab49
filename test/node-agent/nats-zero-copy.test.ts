// The send-side shim for large messages (node-agent/src/transport/nats-zero-copy.ts): installed with the
// locked NATS client, large payloads are written to the socket without being copied into a flush buffer,
// and every message — large, small, with headers, interleaved — arrives byte for byte and in order.
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { headers } from '@nats-io/nats-core';
import { DataBuffer } from '@nats-io/nats-core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_PIECE_BYTES, writeLargePiecesDirectly } from '../../node-agent/src/transport/nats-zero-copy.js';
import { NatsServer } from '../helpers/nats-server.js';

describe('nats zero-copy - large publishes are written without a copy', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('nats zero-copy - installs with the locked client; mixed messages arrive intact, in order, large ones uncopied', async () => {
    expect(writeLargePiecesDirectly(), 'the shim must apply to the installed @nats-io/nats-core').toBe(true);
    expect(writeLargePiecesDirectly(), 'installing twice is harmless').toBe(true);
    const msgs = [
      randomBytes(1_000_000),
      randomBytes(3),
      randomBytes(LARGE_PIECE_BYTES),
      randomBytes(LARGE_PIECE_BYTES - 1),
      randomBytes(900_001),
      Buffer.alloc(0),
      randomBytes(200_000),
      ...Array.from({ length: 50 }, (_, i) => randomBytes(10 + i * 997)),
      randomBytes(1_040_000),
    ];
    // Count the bytes the client copies into flush buffers while these are published.
    const concat = DataBuffer.concat;
    let copied = 0;
    DataBuffer.concat = (...bufs: Uint8Array[]): Uint8Array => {
      const out = concat(...bufs);
      copied += out.length;
      return out;
    };
    const sub = await connect({ servers: nats.url });
    const pub = await connect({ servers: nats.url });
    try {
      const got: { data: Uint8Array; n: string | undefined }[] = [];
      const done = new Promise<void>((resolve) => {
        sub.subscribe('zc.test', {
          callback: (_err, m) => {
            got.push({ data: Uint8Array.from(m.data), n: m.headers?.get('n') });
            if (got.length === msgs.length) resolve();
          },
        });
      });
      await sub.flush();
      msgs.forEach((m, i) => {
        if (i % 2 === 0) {
          const h = headers();
          h.set('n', String(i));
          pub.publish('zc.test', m, { headers: h });
        } else pub.publish('zc.test', m);
      });
      await pub.flush();
      await done;
      expect(got.map((g) => Buffer.from(g.data).equals(msgs[got.indexOf(g)]!))).toEqual(msgs.map(() => true));
      expect(got.map((g) => g.n)).toEqual(msgs.map((_, i) => (i % 2 === 0 ? String(i) : undefined)));
      const large = msgs.filter((m) => m.length >= LARGE_PIECE_BYTES).reduce((a, m) => a + m.length, 0);
      const total = msgs.reduce((a, m) => a + m.length, 0);
      expect(large).toBeGreaterThan(3_000_000);
      // Everything small may be packed (and the subscriber's own commands); no large payload is.
      expect(copied).toBeLessThan(total - large + 64 * 1024);
    } finally {
      DataBuffer.concat = concat;
      await pub.close();
      await sub.close();
    }
  });
});
