// Records of reconciliation (对账) as the HTTP API returns them, shared by store, services and CLI (like
// api-types.ts, kept in a file of its own).

/** Life of a verification run: central creates it, the consumer's agent reports it running and then its end. */
export type VerificationState = 'requested' | 'running' | 'done' | 'failed';
export type VerificationTrigger = 'manual' | 'scheduled';

/** What the consumer's agent found (node-agent/src/reconcile/consumer.ts VerificationResult). */
export interface VerificationResult {
  rowsSource: number;
  rowsSink: number;
  rowsCompared: number;
  sourceRejected: number;
  buckets: number;
  bucketsDiffering: number;
  missing: number;
  extra: number;
  different: number;
  /** Up to 100 keys of each class, as objects of key column → value. */
  samples: { missing: Record<string, unknown>[]; extra: Record<string, unknown>[]; different: Record<string, unknown>[] };
  durationMs: number;
  rowsPerSecond: number;
  repair?: { upserts: number; tombstones: number; rejected: number };
}

export interface Verification {
  id: string;
  subscriptionId: string;
  exchangeTaskId: string;
  consumerNodeId: string;
  providerNodeId: string;
  repair: boolean;
  trigger: VerificationTrigger;
  state: VerificationState;
  requestedBy: string;
  requestedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string;
  result: VerificationResult | null;
}

export interface VerifySchedule {
  subscriptionId: string;
  /** 0: never verified on a schedule. */
  intervalMs: number;
  /** 'subscription' when set for it, 'default' when central's default applies. */
  source: 'subscription' | 'default';
}
