// Bundles the three programs (npm run build, after tsc): dist/central/src/main.js (xchg-central),
// dist/node-agent/src/main.js (xchg-agent) and dist/central/src/cli/main.js (xchg) are each replaced by one
// esbuild bundle of themselves and their dependencies, in place, so every path that starts them (bins, systemd
// units, tests) stays the same. The other compiled modules in dist/ stay as tsc wrote them (scripts import them).
//
// Why: starting a program spent most of its time resolving and loading ~400 ES modules one by one. Measured on
// the 2-core test machine under load (node <main> --help, three runs each): agent 2.4-2.7 s -> 1.1-1.3 s,
// CLI 1.2-1.5 s -> 0.5-0.8 s. Tests start central, agents and the CLI hundreds of times.
//
// Kept external (loaded from node_modules at run time): better-sqlite3 (a native addon), and the database
// drivers pg and mariadb, which the agent loads only when a binding needs them (their memory is paid only then).
// tsc re-emits main.js on every build (no incremental build), so a bundle is never bundled again.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = ['dist/central/src/main.js', 'dist/node-agent/src/main.js', 'dist/central/src/cli/main.js'];

for (const entry of ENTRIES) {
  const file = join(root, entry);
  await build({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
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
