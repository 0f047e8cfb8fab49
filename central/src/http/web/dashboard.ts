// Serves the dashboard's built front end (scripts/build-web.mjs → dist/web): the HTML shell at /dashboard
// (never cached: it names the current assets) and the content-hashed assets under /dashboard/assets/
// (cached for a year, immutable: a new build has new names).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../types.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the built front end is: the nearest `web/` or `dist/web/` holding an index.html, looking upward from this
 * module (dist/central/src/http/web when compiled, dist/central/src when bundled into main.js, the sources in
 * tests). Undefined when not built.
 */
export function webDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, 'web'), join(dir, 'dist', 'web')]) {
      if (existsSync(join(candidate, 'index.html'))) return `${candidate}/`;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Registers GET /dashboard and GET /dashboard/assets/:file; files are read once and kept in memory. */
export function registerDashboardAssets(app: App, dir = webDir()): void {
  const shell = dir ? readFileSync(`${dir}index.html`) : undefined;
  const assets = new Map<string, Buffer>();
  if (dir) for (const f of readdirSync(`${dir}assets`)) assets.set(f, readFileSync(`${dir}assets/${f}`));

  app.get('/dashboard', { schema: { hide: true } }, async (_req, reply) => {
    if (!shell) return reply.status(503).type('text/plain; charset=utf-8').send('dashboard not built: npm run build');
    return reply
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
      .type('text/html; charset=utf-8')
      .send(shell);
  });

  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', { schema: { hide: true } }, async (req, reply) => {
    const body = assets.get(req.params.file);
    if (!body) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no asset ${req.params.file}` } });
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .type(TYPES[extname(req.params.file)] ?? 'application/octet-stream')
      .send(body);
  });
}
