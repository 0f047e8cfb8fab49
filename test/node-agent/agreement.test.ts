import { describe, expect, it } from 'vitest';
import { checkInbound, checkOutbound, expired, termsOf } from '../../node-agent/src/policy/agreement.js';

describe('agreement - enforcement rules on the agent', () => {
  const terms = termsOf({ agreementId: 'agr-1', allowedFields: ['id', 'xm'], agreementValidUntil: 2_000 });

  it('agreement - terms are read from task params, with safe defaults', () => {
    expect(terms).toEqual({ agreementId: 'agr-1', allowedFields: ['id', 'xm'], validUntilMs: 2_000 });
    expect(termsOf({ allowedFields: [1, 'a'] })).toEqual({ agreementId: '', allowedFields: ['a'], validUntilMs: 0 });
  });

  it('agreement - a binding that does not require one sends freely', () => {
    expect(checkOutbound('population', false, termsOf({}), undefined)).toBeUndefined();
  });

  it('agreement - a binding that requires one refuses a task without it, or with fields it does not cover', () => {
    expect(checkOutbound('population', true, termsOf({}), ['id'])).toBe(
      'binding population shares only under an agreement, and this task carries none',
    );
    expect(checkOutbound('population', true, terms, undefined)).toMatch(/requires the task to select fields/);
    expect(checkOutbound('population', true, terms, ['id', 'xm', 'sfzh'])).toBe(
      'field(s) sfzh not covered by agreement agr-1',
    );
    expect(checkOutbound('population', true, terms, ['id', 'xm'])).toBeUndefined();
    expect(checkOutbound('population', true, termsOf({ agreementId: 'a' }), ['id'])).toBe(
      'agreement a names no fields',
    );
  });

  it('agreement - validity ends after validUntil', () => {
    expect(expired(terms, 2_000)).toBe(false);
    expect(expired(terms, 2_001)).toBe(true);
    expect(expired(termsOf({ agreementId: 'x' }), Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('agreement - a consumer writes only batches sent under the agreement it holds, with covered fields', () => {
    expect(checkInbound(terms, 'agr-1', ['id', 'xm'])).toBeUndefined();
    expect(checkInbound(terms, 'agr-2', ['id'])).toBe('batch sent under agreement agr-2, this node holds agr-1');
    expect(checkInbound(terms, '', ['id'])).toBe('batch sent under agreement (none), this node holds agr-1');
    expect(checkInbound(terms, 'agr-1', ['id', 'sfzh'])).toBe(
      'batch carries field(s) sfzh not covered by agreement agr-1',
    );
    expect(checkInbound(termsOf({}), 'agr-9', ['id'])).toMatch(/this node holds none/);
    expect(checkInbound(termsOf({}), '', ['id'])).toBeUndefined();
  });
});
