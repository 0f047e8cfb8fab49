// The agent's local online-query endpoint (联机查询) for the department's own systems on the front-end
// machine: GET /v1/query/<subscription>?<field>=<value> asks the provider's agent over NATS
// request/reply and answers with the record as the subscription's masking rules allow. Bind it to
// loopback or the department LAN only: it carries no authentication of its own in this release.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { DataPlane } from './exchange/data-plane.js';
import { Decimal, JsonText, Temporal } from './values/value.js';
import { recordFromWire } from './values/wire.js';

/**
 * A record as plain JSON for the department's systems: integers beyond 2^53 and decimals as strings of
 * their digits (a JSON number would be rounded by most readers), dates and times as ISO text, binary as
 * base64, JSON documents embedded as JSON.
 */
export function presentRecord(wire: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(recordFromWire(wire))) {
    if (typeof v === 'bigint') out[k] = v.toString();
    else if (typeof v === 'number' && !Number.isFinite(v)) out[k] = String(v);
    else if (v instanceof Decimal || v instanceof Temporal) out[k] = v.text;
    else if (v instanceof JsonText) out[k] = JSON.parse(v.text) as unknown;
    else if (Buffer.isBuffer(v)) out[k] = v.toString('base64');
    else out[k] = v;
  }
  return out;
}

export async function startQueryApi(
  listen: string,
  dataPlane: DataPlane,
  logger: Logger,
  timeoutMs = 5_000,
): Promise<Server> {
  const [host, portText] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];
  const log = logger.child({ component: 'query-api' });
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://local');
    const m = /^\/v1\/query\/([A-Za-z0-9_.-]{1,64})$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return send(404, { error: 'use GET /v1/query/<subscription>?<field>=<value>' });
    const params = [...url.searchParams.entries()];
    if (params.length !== 1) return send(400, { error: 'give exactly one key field, e.g. ?sfzh=360102199001011234' });
    const started = process.hrtime.bigint();
    dataPlane.query(m[1]!, Object.fromEntries(params), timeoutMs).then(
      (reply) => {
        const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (!reply.ok) return send(502, { error: reply.error, elapsedMs });
        send(200, { found: reply.found, record: reply.record ? presentRecord(reply.record) : null, elapsedMs });
      },
      (err: unknown) => send(500, { error: (err as Error).message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => resolve());
  });
  log.info({ port: (server.address() as { port: number }).port, host }, 'query api listening');
  return server;
}
