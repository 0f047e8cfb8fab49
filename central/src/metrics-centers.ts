// Central's gauges of the exchange centers' health: the latest sample of each center's nats-server
// monitoring endpoint (services/center-monitor.ts), read from central.db at scrape time. `center` names a
// registered center (bounded by the registry); centers without a monitoring URL have no series.
import { Gauge, type Registry } from 'prom-client';
import type { CenterFigures, CenterHealthSample } from './domain/center-health.js';

/** Gauge name suffix, help and the figure it exports. */
const FIGURES: readonly [string, string, keyof CenterFigures][] = [
  ['connections', 'Client connections of the center nats-server', 'connections'],
  ['memory_bytes', 'Resident memory of the center nats-server, bytes', 'memBytes'],
  ['cpu_percent', 'CPU of the center nats-server, percent of one core', 'cpuPercent'],
  ['slow_consumers', 'Slow consumers the center nats-server counted since it started', 'slowConsumers'],
  ['jetstream_storage_bytes', 'JetStream file storage used at the center, bytes', 'jsStorageBytes'],
  ['jetstream_memory_bytes', 'JetStream memory storage used at the center, bytes', 'jsMemoryBytes'],
  [
    'jetstream_reserved_storage_bytes',
    'JetStream file storage reserved by streams with a size limit at the center, bytes',
    'jsReservedStorageBytes',
  ],
  ['jetstream_max_storage_bytes', 'JetStream file storage limit of the center nats-server, bytes', 'jsMaxStorageBytes'],
  ['jetstream_streams', 'JetStream streams at the center', 'jsStreams'],
  ['jetstream_consumers', 'JetStream consumers at the center', 'jsConsumers'],
  ['jetstream_messages', 'Messages held in the streams of the center', 'jsMessages'],
  ['jetstream_pending', 'Messages not yet delivered to their consumers at the center, summed', 'jsPending'],
  ['jetstream_api_errors', 'JetStream API errors of the center nats-server since it started', 'jsApiErrors'],
];

/** Registers the center gauges on `registry`; `samples` is read at each scrape. */
export function registerCenterGauges(registry: Registry, samples: () => readonly CenterHealthSample[]): void {
  const each = (name: string, help: string, value: (s: CenterHealthSample) => number | undefined): void => {
    new Gauge({
      name: `xchg_center_${name}`,
      help,
      labelNames: ['center'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of samples()) {
          const v = value(s);
          if (v !== undefined) this.set({ center: s.centerCode }, v);
        }
      },
    });
  };
  each(
    'monitor_up',
    'Whether the center nats-server monitoring endpoint answered at the last sample (1) or not (0)',
    (s) => (s.ok ? 1 : 0),
  );
  each(
    'jetstream_enabled',
    'Whether JetStream is enabled on the center nats-server (last sample that answered)',
    (s) => (s.ok ? (s.jetStream ? 1 : 0) : undefined),
  );
  each(
    'sample_timestamp_seconds',
    'When the center was last sampled, seconds since the epoch',
    (s) => s.sampledAt / 1000,
  );
  for (const [name, help, key] of FIGURES) each(name, help, (s) => s.figures?.[key]);
}
