// A relay (node-agent/src/relay/relay.ts, built into dist/) as a process of its own, for tests that
// SIGKILL it at random points. argv[2]: the relay's options as JSON (spec, homeUrls, prefix, stream,
// settings) and `routes` ({ center: [hops] }, for relayed requests). Logs JSON lines like the agent;
// SIGTERM closes the relay and exits 0.
import { pino } from 'pino';
import { Relay } from '../../dist/node-agent/src/relay/relay.js';

const { routes = {}, ...opts } = JSON.parse(process.argv[2] ?? '{}');
const logger = pino({ level: process.env.XCHG_LOG_LEVEL ?? 'info', base: { svc: 'xchg-relay' } });
const relay = Relay.start({ ...opts, logger, nextHop: (center) => routes[center]?.[1] });
process.on('SIGTERM', () => {
  relay.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
