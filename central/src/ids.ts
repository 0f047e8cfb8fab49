// Identifiers and secrets. Secrets are shown once and stored only as sha-256 hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Short random id with a kind prefix, e.g. "nd-5f2c9a1e03b7". */
export const newId = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;

/** A bearer secret with a kind prefix (e.g. "xet_" enrollment token, "xns_" node secret). */
export const newSecret = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
