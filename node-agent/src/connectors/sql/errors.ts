// Identifiers and error texts shared by the SQL connectors: standard identifier quoting, the reason a
// refused record is quarantined with, and the ConnectorError that names the binding.
import { ConnectorError } from '../types.js';

/**
 * Quotes an SQL identifier the standard way ("…", embedded quotes doubled), so any name the database
 * allows works — 人口信息, 姓名, 2024年, "first name", select — and nothing in a name can inject SQL.
 * Refused: empty names, NUL, and names longer than `maxBytes` of UTF-8 (PostgreSQL would silently cut
 * them at 63 bytes).
 */
export function ident(name: string, binding: string, maxBytes = 1024): string {
  if (typeof name !== 'string' || name === '') throw new ConnectorError(binding, 'an identifier is empty');
  if (name.includes('\u0000')) throw new ConnectorError(binding, `identifier ${JSON.stringify(name)} contains NUL`);
  if (!name.isWellFormed())
    throw new ConnectorError(binding, `identifier ${JSON.stringify(name)} is not well-formed Unicode`);
  if (Buffer.byteLength(name) > maxBytes)
    throw new ConnectorError(
      binding,
      `identifier ${JSON.stringify(name)} is longer than ${maxBytes} bytes, the database's limit`,
    );
  return `"${name.replaceAll('"', '""')}"`;
}

/** The reason a refused record is quarantined with: the driver's message, its code and detail. */
export function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; detail?: string; column?: string };
  const parts = [e?.message ?? String(err)];
  if (e?.code && !parts[0]!.includes(e.code)) parts.push(`(${e.code})`);
  if (e?.detail) parts.push(`— ${e.detail}`);
  return parts.join(' ');
}

/**
 * A driver error as one line: the server's message and code (never the SQL or its values); a refused
 * dual-stack connect (an AggregateError with an empty message) as its parts.
 */
export function errText(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map((e) => errText(e)).join('; ');
  const e = err as { sqlMessage?: string | null; code?: string | null; errno?: number; message?: string };
  if (e && typeof e.sqlMessage === 'string' && e.sqlMessage)
    return `${e.sqlMessage}${e.code ? ` (${e.code}${e.errno ? ` ${e.errno}` : ''})` : ''}`;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** A ConnectorError naming the binding, keeping the driver's error (SQLSTATE code and all) as its cause. */
export function wrap(binding: string, what: string, err: unknown): ConnectorError {
  return Object.assign(new ConnectorError(binding, `${what}: ${errText(err)}`), { cause: err });
}
