// The agent's Prometheus endpoint: GET /metrics on its own small HTTP listener (config metrics.listen,
// off by default). It serves only the metrics text, no data and no control; bind it to loopback or the
// monitoring network.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * Starts the listener on "host:port" (port 0: any free port; read it from server.address()). Rejects when
 * the address cannot be bound (EADDRINUSE, EACCES): the agent does not start with a setting it cannot keep.
 */
export async function startMetricsApi(listen: string, registry: Registry, logger: Logger): Promise<Server> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at);
  const port = Number(listen.slice(at + 1));
  const log = logger.child({ component: 'metrics-api' });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('use GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info({ port: (server.address() as { port: number }).port, host }, 'metrics listening');
  return server;
}
