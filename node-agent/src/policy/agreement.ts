// Enforcement of sharing agreements (协议) on the agent itself, not only in central: a provider sends
// only what an active agreement covers, a consumer writes only data sent under the agreement it holds.
// Pure checks; the runners call them and report refusals as events.

/** What a task carries about its agreement (set by central when a subscription creates the task). */
export interface AgreementTerms {
  agreementId: string;
  /** Field names (as the consumer sees them) the agreement covers; empty = not restricted. */
  allowedFields: string[];
  /** End of validity (ms since epoch); 0 = no end given. */
  validUntilMs: number;
}

export function termsOf(params: Record<string, unknown>): AgreementTerms {
  const allowed = params['allowedFields'];
  return {
    agreementId: typeof params['agreementId'] === 'string' ? params['agreementId'] : '',
    allowedFields: Array.isArray(allowed) ? allowed.filter((f): f is string => typeof f === 'string') : [],
    validUntilMs: Number(params['agreementValidUntil'] ?? 0) || 0,
  };
}

/**
 * Provider side, when a sync task is applied: a binding configured with `requireAgreement: true` only
 * sends under an agreement, and only the fields it covers. Returns the reason to refuse, or undefined.
 */
export function checkOutbound(
  binding: string,
  requireAgreement: boolean,
  terms: AgreementTerms,
  outputFields: readonly string[] | undefined,
): string | undefined {
  if (!requireAgreement) return undefined;
  if (!terms.agreementId) return `binding ${binding} shares only under an agreement, and this task carries none`;
  if (terms.allowedFields.length === 0) return `agreement ${terms.agreementId} names no fields`;
  if (!outputFields || outputFields.length === 0)
    return `binding ${binding} requires the task to select fields (agreement ${terms.agreementId})`;
  const extra = outputFields.filter((f) => !terms.allowedFields.includes(f));
  if (extra.length) return `field(s) ${extra.join(', ')} not covered by agreement ${terms.agreementId}`;
  return undefined;
}

/** Whether the agreement is past its validity at `now`. */
export const expired = (terms: AgreementTerms, now: number): boolean =>
  terms.validUntilMs > 0 && now > terms.validUntilMs;

/**
 * Consumer side, per batch: data is written only when it was sent under the agreement this node holds
 * for the subscription and carries only covered fields. Returns the reason to refuse, or undefined.
 */
export function checkInbound(
  terms: AgreementTerms,
  envelopeAgreementId: string,
  columns: readonly string[],
): string | undefined {
  if (!terms.agreementId)
    return envelopeAgreementId
      ? `batch sent under agreement ${envelopeAgreementId}, but this node holds none for the subscription`
      : undefined;
  if (envelopeAgreementId !== terms.agreementId)
    return `batch sent under agreement ${envelopeAgreementId || '(none)'}, this node holds ${terms.agreementId}`;
  if (terms.allowedFields.length) {
    const extra = columns.filter((c) => !terms.allowedFields.includes(c));
    if (extra.length) return `batch carries field(s) ${extra.join(', ')} not covered by agreement ${terms.agreementId}`;
  }
  return undefined;
}
