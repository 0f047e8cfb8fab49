// Traffic history (流量历史) as the API shows it (/api/v1/traffic): the series of one node pair (and resource)
// at a step, importing and exporting history files. Counts per bucket: batches committed, records written,
// payload bytes, delivery latency p50/p99 (commit at the consumer − creation at the provider, ms, including
// the clock skew of the two machines), errors (records that arrived but were not written).
import { Type, type Static } from 'typebox';
import { Id, Nullable } from './common.js';

/** A resource code, or '' for the pair as a whole (history imported without a resource). */
const TrafficResource = Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]*$' });
/** An instant: ISO 8601, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` in central's time zone, or ms since epoch. */
const Instant = Type.String({
  minLength: 1,
  maxLength: 40,
  description: "ISO 8601, 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' in central's time zone (traffic.timeZone), or ms",
});

export const TrafficPairQuery = Type.Object(
  {
    from: Id,
    to: Id,
    resource: Type.Optional(TrafficResource),
  },
  { additionalProperties: false },
);

/** GET /traffic: the history of a pair. */
export const TrafficShowQuery = Type.Object(
  {
    ...TrafficPairQuery.properties,
    since: Type.Optional(Instant),
    until: Type.Optional(Instant),
    step: Type.Optional(
      Type.String({
        maxLength: 10,
        description: '5m | 1h | 1d (a multiple of the base bucket below an hour); default: from the range',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TrafficShowQuery = Static<typeof TrafficShowQuery>;

export const TrafficBucket = Type.Object({
  startMs: Type.Integer({ description: 'bucket start, ms since epoch' }),
  start: Type.String({ description: "bucket start in central's time zone, ISO 8601 with offset" }),
  batches: Type.Integer(),
  records: Type.Integer(),
  bytes: Nullable(Type.Integer({ description: 'null: unknown (imported without bytes)' })),
  latencyP50Ms: Nullable(Type.Integer()),
  latencyP99Ms: Nullable(Type.Integer()),
  errors: Type.Integer(),
});
export type TrafficBucket = Static<typeof TrafficBucket>;

export const TrafficTotals = Type.Object({
  batches: Type.Integer(),
  records: Type.Integer(),
  bytes: Nullable(Type.Integer()),
  latencyP50Ms: Nullable(Type.Integer({ description: 'batch-weighted mean of the buckets’ p50' })),
  latencyP99Ms: Nullable(Type.Integer({ description: 'largest bucket p99 (an upper bound of the true p99)' })),
  errors: Type.Integer(),
  bucketsWithData: Type.Integer({ description: 'buckets with a stored row (an imported zero is data)' }),
});
export type TrafficTotals = Static<typeof TrafficTotals>;

/**
 * The brain's forecast beside a history: fitted on the buckets before the range's start only (what it expected
 * then, no look-ahead), one entry per shown bucket. Steps above the base bucket sum the base forecasts and
 * their bounds (wider than the true interval of a sum).
 */
export const TrafficForecast = Type.Object({
  fittedAtMs: Type.Integer({ description: 'the model saw buckets ending by this instant only' }),
  level: Type.Number({ description: 'coverage of the prediction interval (0.95)' }),
  method: Type.String(),
  buckets: Type.Array(
    Type.Object({
      startMs: Type.Integer(),
      expected: Type.Number({ description: 'records' }),
      lower: Type.Number(),
      upper: Type.Number(),
    }),
  ),
});
export type TrafficForecast = Static<typeof TrafficForecast>;

/**
 * GET /traffic answer: every bucket of the range (empty ones with zeros), totals, and the forecast beside them
 * (null when the pair has under 7 days of history before the range, the range is over 35 days, or the step is
 * over an hour).
 */
export const TrafficHistory = Type.Object({
  fromNode: Type.String(),
  toNode: Type.String(),
  resource: Type.String({ description: "'' = every resource of the pair" }),
  sinceMs: Type.Integer({ description: 'start of the first bucket, ms since epoch' }),
  untilMs: Type.Integer({ description: 'end of the last bucket (exclusive), ms since epoch' }),
  since: Type.String({ description: "sinceMs in central's time zone, ISO 8601 with offset" }),
  until: Type.String({ description: "untilMs in central's time zone, ISO 8601 with offset" }),
  stepMs: Type.Integer(),
  step: Type.String(),
  timeZone: Type.String(),
  buckets: Type.Array(TrafficBucket),
  totals: TrafficTotals,
  forecast: Nullable(TrafficForecast),
});
export type TrafficHistory = Static<typeof TrafficHistory>;

/** POST /traffic/import: a history file (CSV text) for one pair. */
export const TrafficImportBody = Type.Object(
  {
    from: Id,
    to: Id,
    resource: Type.Optional(TrafficResource),
    csv: Type.String({ description: 'header timestamp,records[,bytes]; rows at one fixed interval of 1 min to 1 h' }),
  },
  { additionalProperties: false },
);
export type TrafficImportBody = Static<typeof TrafficImportBody>;

export const TrafficImportSummary = Type.Object({
  fromNode: Type.String(),
  toNode: Type.String(),
  resource: Type.String(),
  rowsRead: Type.Integer(),
  intervalMs: Type.Integer({ description: 'interval of the file’s rows' }),
  bucketMs: Type.Integer(),
  bucketsWritten: Type.Integer({ description: 'base buckets written (within the base retention)' }),
  hoursWritten: Type.Integer({ description: 'hours written directly (older than the base retention)' }),
  keptLive: Type.Integer({ description: 'buckets or hours left alone because live traffic is recorded there' }),
  replaced: Type.Integer({ description: 'imported buckets or hours of the range removed before writing' }),
  records: Type.Integer({ description: 'records in the file after rounding' }),
  sinceMs: Type.Integer(),
  untilMs: Type.Integer(),
  since: Type.String(),
  until: Type.String(),
});
export type TrafficImportSummary = Static<typeof TrafficImportSummary>;

/** GET /traffic/export: the same format; step defaults to the base resolution within its retention, else 1h. */
export const TrafficExportQuery = TrafficShowQuery;
export type TrafficExportQuery = Static<typeof TrafficExportQuery>;

/** GET /traffic/export answer: the file and how many rows it has. */
export const TrafficExport = Type.Object({
  csv: Type.String({ description: 'header timestamp,records,bytes; one row per stored bucket with traffic' }),
  rows: Type.Integer(),
});
export type TrafficExport = Static<typeof TrafficExport>;
