// Alerts (告警) as the API shows them (/api/v1/alerts) and as the webhook posts them: kind, entity, severity,
// state (firing → acknowledged → resolved), start, last seen and count, acknowledgement, end.
import { Type, type Static } from 'typebox';
import { Code, Limit, Nullable } from './common.js';

export const ALERT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export const AlertState = Type.Enum([...ALERT_STATES]);
/** firing: open, nobody acknowledged it; acknowledged: open, someone took it; resolved: ended. */
export type AlertState = Static<typeof AlertState>;

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const AlertSeverity = Type.Enum([...ALERT_SEVERITIES]);
export type AlertSeverity = Static<typeof AlertSeverity>;

export const AlertAck = Type.Object({
  by: Type.String(),
  /** Epoch ms. */
  at: Type.Integer(),
  note: Type.String(),
});

/**
 * The named parameters of an alert's message (what its kind's message says, as values: node, department, counts,
 * epoch-ms times named `...At`), so the dashboard can render it in the viewer's language. `message` keeps the
 * English text for the CLI and the webhook. Each kind's names: domain/alerts.ts AlertParamsOf.
 */
export const AlertMessageParams = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]));
export type AlertMessageParams = Static<typeof AlertMessageParams>;

export const Alert = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  entityId: Type.String(),
  departmentCode: Type.String(),
  /** English, for the CLI and the webhook. */
  message: Type.String(),
  /** The message's parameters (see AlertMessageParams); null for alerts raised before they were kept. */
  params: Nullable(AlertMessageParams),
  severity: AlertSeverity,
  state: AlertState,
  /** When it started firing, epoch ms (also `at`, kept for older clients). */
  startedAt: Type.Integer(),
  at: Type.Integer(),
  /** When it was last seen firing, epoch ms; `count` is how many times it was seen while open. */
  lastSeenAt: Type.Integer(),
  count: Type.Integer(),
  acknowledgement: Nullable(AlertAck),
  /** When it ended (resolved), epoch ms, and why. */
  endedAt: Nullable(Type.Integer()),
  endReason: Type.String(),
});
export type Alert = Static<typeof Alert>;

/** GET /alerts. */
export const AlertQuery = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    /** A state, or 'open': firing or acknowledged. */
    state: Type.Optional(Type.Enum([...ALERT_STATES, 'open'])),
    severity: Type.Optional(AlertSeverity),
    department: Type.Optional(Code),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type AlertQuery = Static<typeof AlertQuery>;

export const AlertParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

/** POST /alerts/:id/ack. */
export const AckAlertBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type AckAlertBody = Static<typeof AckAlertBody>;

/** What the webhook POSTs for each change of an alert; signed (X-Xchg-Signature: sha256=<hex HMAC of the body>). */
export const AlertEvent = Type.Object({
  /** opened, escalated (severity rose), acknowledged, resolved. */
  event: Type.Enum(['opened', 'escalated', 'acknowledged', 'resolved']),
  alert: Alert,
  /** Epoch ms of the change. */
  at: Type.Integer(),
});
export type AlertEvent = Static<typeof AlertEvent>;
export type AlertEventKind = AlertEvent['event'];
