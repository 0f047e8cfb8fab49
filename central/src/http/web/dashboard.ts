// Serves the dashboard's built front end (scripts/build-web.mjs → dist/web): the HTML shell at /dashboard
// (never cached: it names the current assets) and the content-hashed assets under /dashboard/assets/
// (cached for a year, immutable: a new build has new names).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../types.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the built front end is: dist/web beside the compiled central (dist/central/src/http/web → dist/web),
 * or, when central runs from its sources (tests), the repository's dist/web. Undefined when not built.
 */
export function webDir(): string | undefined {
  for (const rel of ['../../../../web/', '../../../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
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
