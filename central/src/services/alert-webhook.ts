// Webhook delivery of alert changes from the durable outbox (alert_outbox, written in the change's own
// transaction): POST the JSON body signed with HMAC-SHA256, delete on 2xx, else retry with jittered exponential
// backoff; a delivery older than giveUpAfterMs is dropped with an ERROR line. Order per URL is kept: after a
// failure or before a delivery that is not due, no later change is sent to that URL.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { retryDelayMs } from '../domain/alerts.js';
import type { Store } from '../store/index.js';

/** The header carrying the signature: `sha256=` + hex HMAC-SHA256 of the raw request body under the secret. */
export const SIGNATURE_HEADER = 'x-xchg-signature';

/** Settings of the delivery (config alerts.webhook). */
export interface WebhookSettings {
  secret: string;
  /** One POST's time limit, ms. */
  timeoutMs: number;
  /** Retry delays: base × 1.6^attempts up to max, ±20 %, ms. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A delivery failing this long after its change is dropped, ms. */
  giveUpAfterMs: number;
}

/** `sha256=<hex>`: what a receiver recomputes over the raw body with the shared secret and compares. */
export function signBody(body: string, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

export class AlertWebhook {
  constructor(
    private readonly store: Store,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Sends the due deliveries of each URL in the order of the changes (at most `limit` a URL); a URL's round stops
   * at its first delivery that is not due yet or fails, so a receiver never sees a later change first. Returns
   * the number delivered.
   */
  async deliverDue(limit = 100): Promise<number> {
    let delivered = 0;
    for (const url of this.store.alerts.pendingUrls()) delivered += await this.deliverTo(url, limit);
    return delivered;
  }

  private async deliverTo(url: string, limit: number): Promise<number> {
    let delivered = 0;
    for (const row of this.store.alerts.pendingFor(url, limit)) {
      if (row.nextAttemptAt > this.clock()) break;
      const error = await this.post(row.url, row.body, row.id);
      const now = this.clock();
      if (!error) {
        this.store.alerts.delivered(row.id);
        delivered++;
        continue;
      }
      if (now - row.createdAt >= this.settings.giveUpAfterMs) {
        // Given up: the next change may go now (the receiver has missed this one; the log says which).
        this.store.alerts.delivered(row.id);
        this.logger.error(
          { alertId: row.alertId, url, attempts: row.attempts + 1, error },
          'alert webhook delivery given up',
        );
        continue;
      }
      const delay = retryDelayMs(row.attempts, this.settings.retryBaseMs, this.settings.retryMaxMs, Math.random());
      this.store.alerts.retryLater(row.id, now + delay, error);
      this.logger.warn(
        { alertId: row.alertId, url, attempts: row.attempts + 1, delayMs: delay, error },
        'alert webhook delivery failed; will retry',
      );
      break;
    }
    return delivered;
  }

  /** undefined on a 2xx answer, else why not. */
  private async post(url: string, body: string, deliveryId: number): Promise<string | undefined> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signBody(body, this.settings.secret),
          'x-xchg-delivery': String(deliveryId),
        },
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    }
  }
}
