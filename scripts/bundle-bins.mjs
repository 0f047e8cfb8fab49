// Bundles the three programs (npm run build, after tsc) into dist/bin/: xchg-central.js, xchg-agent.js and
// xchg.js (the CLI), and central's job worker thread (job-worker-main.js), each one esbuild bundle of tsc's entry
// module and everything it imports. The bins, systemd units and tests start these. dist/ keeps tsc's modules as
// they are: scripts import them, the dependency rules (npm run depcheck) are checked on them, and
// `node dist/<program>/src/main.js` still works, only slower.
//
// Why: starting a program spent most of its time resolving and loading ~400 ES modules one by one. Measured on
// the 2-core test machine under load (node <main> --help, three runs each): agent 2.4-2.7 s -> 1.1-1.3 s,
// CLI 1.2-1.5 s -> 0.5-0.8 s. Tests start central, agents and the CLI hundreds of times.
//
// Kept external (loaded from node_modules at run time): better-sqlite3 (a native addon), and the database
// drivers pg and mariadb, which the agent loads only when a binding needs them (their memory is paid only then).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Bundle (dist/bin/<name>) ← tsc's entry module. */
const PROGRAMS = {
  'xchg-central.js': 'dist/central/src/main.js',
  'xchg-agent.js': 'dist/node-agent/src/main.js',
  'xchg.js': 'dist/central/src/cli/main.js',
  // Central's jobs' worker thread: central/src/jobs/job-worker.ts starts './job-worker-main.js' beside itself,
  // which is this bundle when central runs as dist/bin/xchg-central.js (tsc's module otherwise).
  'job-worker-main.js': 'dist/central/src/jobs/job-worker-main.js',
};

for (const [name, entry] of Object.entries(PROGRAMS)) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, 'dist', 'bin', name),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    external: ['better-sqlite3', 'pg', 'pg-native', 'mariadb'],
    // CommonJS dependencies call require(); an ES module bundle has none of its own.
    banner: {
      js: "import { createRequire as __xchgRequire } from 'node:module'; const require = __xchgRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
