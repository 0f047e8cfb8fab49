// Records of reconciliation (对账) as the HTTP API returns them, shared by store, services and CLI (like
// api-types.ts, kept in a file of its own).

/** Life of a verification run: central creates it, the consumer's agent reports it running and then its end. */
export type VerificationState = 'requested' | 'running' | 'done' | 'failed';
export type VerificationTrigger = 'manual' | 'scheduled';

/** What the consumer's agent found. */
export type { VerificationResult } from '../../common/src/verification-result.js';
import type { VerificationResult } from '../../common/src/verification-result.js';

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
