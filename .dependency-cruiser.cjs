// Architecture rules checked in the test command (STYLE.md: Nomad's layering, Temporal's import bans).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'central-not-agent', comment: 'central and node-agent share proto/ and common/ only', severity: 'error', from: { path: '^central/' }, to: { path: '^node-agent/' } },
    { name: 'agent-not-central', severity: 'error', from: { path: '^node-agent/' }, to: { path: '^central/' } },
    { name: 'common-stands-alone', severity: 'error', from: { path: '^(common|proto)/' }, to: { path: '^(central|node-agent)/' } },
    {
      name: 'domain-is-pure',
      comment: 'domain/ takes time as an argument and touches no adapter, database, network or file',
      severity: 'error',
      from: { path: '^central/src/domain/' },
      to: { path: ['^central/src/(store|grpc|http|cli|web|services)/', 'better-sqlite3', '@grpc', 'fastify', 'nats', '^node:(fs|net|http|child_process)'] },
    },
    {
      name: 'sql-only-in-store',
      severity: 'error',
      from: { path: '^central/src/', pathNot: '^central/src/store/' },
      to: { path: 'better-sqlite3' },
    },
    { name: 'cli-talks-http-only', severity: 'error', from: { path: '^central/src/cli/' }, to: { path: '^central/src/(store|services|grpc|domain)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
