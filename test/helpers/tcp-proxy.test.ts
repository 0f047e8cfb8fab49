// The link-degrading TCP proxy used by the exchange-center tests: latency, order, stall, cut and restore.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from './tcp-proxy.js';

let echo: Server | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  proxy = undefined;
  echo = undefined;
});

async function startEcho(): Promise<number> {
  echo = createServer((s) => {
    s.on('error', () => {}); // the proxy resets its upstream side on cut/close
    s.pipe(s);
  });
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  return (echo.address() as { port: number }).port;
}

function client(port: number): Promise<{ s: Socket; received: () => string }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(port, '127.0.0.1', () => {
      s.on('error', () => {}); // a cut resets it: expected
      resolve({ s, received: () => got });
    });
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.once('error', reject);
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('tcp proxy', () => {
  it('tcp proxy - adds the delay each way and keeps byte order when the delay is lowered', async () => {
    proxy = await TcpProxy.start({ targetPort: await startEcho() });
    const c = await client(proxy.port);
    c.s.write('0');
    await until(() => c.received() === '0');
    proxy.setDelay(150);
    const t0 = Date.now();
    c.s.write('a');
    await new Promise((r) => setTimeout(r, 30)); // 'a' is in the proxy, held
    proxy.setDelay(0);
    c.s.write('b');
    await until(() => c.received().length === 3);
    // 'a' waits 150 ms on the way out and 'b' may not overtake it; the echo comes back undelayed.
    expect(c.received()).toBe('0ab');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
    // Both ways: a round trip at 100 ms each way takes at least 200 ms.
    proxy.setDelay(100);
    const t1 = Date.now();
    c.s.write('c');
    await until(() => c.received() === '0abc');
    expect(Date.now() - t1).toBeGreaterThanOrEqual(195);
    c.s.destroy();
  });

  it('tcp proxy - jitter varies the delay of each chunk within its bounds and keeps byte order', async () => {
    proxy = await TcpProxy.start({ targetPort: await startEcho(), delayMs: 5 });
    proxy.setJitter(35);
    const c = await client(proxy.port);
    const rtts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      c.s.write(String.fromCharCode(65 + i));
      await until(() => c.received().length === i + 1);
      rtts.push(Date.now() - t);
    }
    expect(c.received()).toBe('ABCDEFGHIJKLMNOPQRST');
    // Each round trip crosses the proxy twice: 2 × 5 ms at least, 2 × (5 + 35) ms at most (plus scheduling).
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...rtts)).toBeLessThan(80 + 40);
    expect(Math.max(...rtts) - Math.min(...rtts)).toBeGreaterThanOrEqual(10);
    c.s.destroy();
  });

  it('tcp proxy - a stall holds bytes with the connection open; restore delivers them in order', async () => {
    proxy = await TcpProxy.start({ targetPort: await startEcho() });
    const c = await client(proxy.port);
    c.s.write('1');
    await until(() => c.received() === '1');
    proxy.stall();
    c.s.write('2');
    c.s.write('3');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.received()).toBe('1');
    expect(c.s.destroyed).toBe(false);
    proxy.restore();
    await until(() => c.received() === '123');
    c.s.destroy();
  });

  it('tcp proxy - a cut resets connections and refuses new ones until restored', async () => {
    proxy = await TcpProxy.start({ targetPort: await startEcho() });
    const c = await client(proxy.port);
    const closed = new Promise<void>((r) => c.s.once('close', () => r()));
    c.s.on('error', () => {});
    proxy.cut();
    await closed;
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(proxy!.port, '127.0.0.1');
      s.on('error', () => resolve(true));
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
      s.write('x');
    });
    expect(refused).toBe(true);
    proxy.restore();
    const again = await client(proxy.port);
    again.s.write('ok');
    await until(() => again.received() === 'ok');
    expect(proxy.accepted).toBe(2);
    again.s.destroy();
  });
});
