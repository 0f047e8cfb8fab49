// The receive-side shim for large messages (node-agent/src/transport/nats-presize.ts): installed with the
// locked NATS client, a multi-megabyte message is collected in one buffer sized once instead of one that
// doubles from 64 KiB, and every message — large, small, interleaved — arrives byte for byte.
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { DenoBuffer } from '@nats-io/nats-core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presizeLargeMessages, releaseReceiveBuffer } from '../../node-agent/src/transport/nats-presize.js';
import { NatsServer } from '../helpers/nats-server.js';

/** Receives `msgs` on a fresh connection and counts how often a pending message's buffer was reallocated. */
async function receive(url: string, msgs: Uint8Array[]): Promise<{ got: Uint8Array[]; reallocations: number }> {
  const proto = DenoBuffer.prototype as unknown as { _grow(n: number): number; capacity: number };
  const grow = proto._grow;
  let reallocations = 0;
  proto._grow = function (this: typeof proto, n: number): number {
    const before = this.capacity;
    const m = grow.call(this, n);
    if (this.capacity !== before) reallocations++;
    return m;
  };
  const sub = await connect({ servers: url });
  const pub = await connect({ servers: url });
  try {
    const got: Uint8Array[] = [];
    const done = new Promise<void>((resolve) => {
      sub.subscribe('presize.test', {
        callback: (_err, m) => {
          got.push(Uint8Array.from(m.data));
          if (got.length === msgs.length) resolve();
        },
      });
    });
    await sub.flush();
    for (const m of msgs) pub.publish('presize.test', m);
    await pub.flush();
    await done;
    return { got, reallocations };
  } finally {
    proto._grow = grow;
    await pub.close();
    await sub.close();
  }
}

describe('nats presize - large messages are collected in one buffer', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('nats presize - installs with the locked client, and large messages arrive intact with at most one reallocation each', async () => {
    // Below the test server's 1 MiB max_payload; each large one spans many 64 KiB socket reads.
    const msgs = [
      randomBytes(1_040_000),
      randomBytes(17),
      randomBytes(900_005),
      Buffer.alloc(0),
      randomBytes(700 * 1024),
    ];
    expect(presizeLargeMessages(), 'the shim must apply to the installed @nats-io/nats-core').toBe(true);
    expect(presizeLargeMessages(), 'installing twice is harmless').toBe(true);
    const { got, reallocations } = await receive(nats.url, msgs);
    expect(got.length).toBe(msgs.length);
    for (let i = 0; i < msgs.length; i++)
      expect(Buffer.from(got[i]!).equals(Buffer.from(msgs[i]!)), `message ${i}`).toBe(true);
    // Three messages span socket reads; without the shim each doubles its buffer 3-4 times (~11 in all).
    expect(reallocations).toBeLessThanOrEqual(3);
  });

  it('nats presize - a released receive buffer serves a later large message; one still held is never reused', async () => {
    expect(presizeLargeMessages()).toBe(true);
    const sub = await connect({ servers: nats.url });
    const pub = await connect({ servers: nats.url });
    try {
      const got: Uint8Array[] = [];
      let arrived: () => void = () => undefined;
      sub.subscribe('presize.pool', { callback: (_err, m) => void (got.push(m.data), arrived()) });
      await sub.flush();
      const one = async (m: Uint8Array): Promise<Uint8Array> => {
        const n = got.length;
        const done = new Promise<void>((resolve) => (arrived = () => got.length > n && resolve()));
        pub.publish('presize.pool', m);
        await pub.flush();
        await done;
        return got[n]!;
      };
      const a = randomBytes(900_000);
      const b = randomBytes(800_000);
      const c = randomBytes(850_000);
      const gotA = await one(a);
      expect(Buffer.from(gotA).equals(a)).toBe(true);
      expect(releaseReceiveBuffer(gotA), 'a buffer the shim lent is taken back').toBe(true);
      expect(releaseReceiveBuffer(gotA), 'and only once').toBe(false);
      const gotB = await one(b);
      expect(Buffer.from(gotB).equals(b)).toBe(true);
      expect(gotB.buffer, 'the released buffer is reused').toBe(gotA.buffer);
      // gotB is still held (not released): the next message gets another buffer, gotB stays intact.
      const gotC = await one(c);
      expect(gotC.buffer).not.toBe(gotB.buffer);
      expect(Buffer.from(gotB).equals(b)).toBe(true);
      expect(Buffer.from(gotC).equals(c)).toBe(true);
      expect(releaseReceiveBuffer(randomBytes(10)), 'data the shim did not lend is ignored').toBe(false);
    } finally {
      await pub.close();
      await sub.close();
    }
  });
});
