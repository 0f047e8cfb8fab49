// Architecture rules checked in the test command (STYLE.md: Nomad's layering, Temporal's import bans).
// Checked on the compiled dist/ (dependency-cruiser cannot parse TypeScript 7 sources yet); type-only
// imports vanish in compilation, so the rules see exactly the runtime coupling.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'central-not-agent',
      comment: 'central and node-agent share proto/ and common/ only',
      severity: 'error',
      from: { path: '^dist/central/' },
      to: { path: '^dist/node-agent/' },
    },
    {
      name: 'agent-not-central',
      severity: 'error',
      from: { path: '^dist/node-agent/' },
      to: { path: '^dist/central/' },
    },
    {
      name: 'common-stands-alone',
      severity: 'error',
      from: { path: '^dist/(common|proto)/' },
      to: { path: '^dist/(central|node-agent)/' },
    },
    {
      name: 'domain-is-pure',
      comment:
        'domain/ takes time as an argument and touches no adapter, database, network or file, not even through a module it imports (reachability, not only direct imports)',
      severity: 'error',
      from: { path: '^dist/central/src/domain/' },
      to: {
        reachable: true,
        path: [
          '^dist/central/src/(store|grpc|http|cli|web|services|jobs)/',
          'better-sqlite3',
          '@grpc',
          'fastify',
          'nats',
          '^(node:)?(fs|net|http|https|child_process)$',
        ],
      },
    },
    {
      name: 'tasks-know-runners-not-exchange',
      comment:
        "the agent's task supervisor knows runners, not the data plane or the spools that implement them (issue 9, Build 2)",
      severity: 'error',
      from: { path: '^dist/node-agent/src/tasks/' },
      to: { path: '^dist/node-agent/src/(exchange|spool)/' },
    },
    {
      name: 'relay-does-not-open-units',
      comment:
        'a relay forwards units by their headers without opening them (issue 10): it never reaches the envelope codec, the data-plane protocols, spools, connectors, processing or tasks',
      severity: 'error',
      from: { path: '^dist/node-agent/src/relay/' },
      to: {
        reachable: true,
        path: [
          '^dist/node-agent/src/(exchange|spool|connectors|pipeline|values|reconcile|tasks|control)/',
          '^dist/node-agent/src/transport/envelope\\.js$',
        ],
      },
    },
    {
      name: 'sql-only-in-store',
      severity: 'error',
      from: { path: '^dist/central/src/', pathNot: '^dist/central/src/store/' },
      to: { path: 'better-sqlite3' },
    },
    {
      name: 'cli-talks-http-only',
      severity: 'error',
      from: { path: '^dist/central/src/cli/' },
      to: { path: '^dist/central/src/(store|services|grpc|domain)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
  },
};
