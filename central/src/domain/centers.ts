// Exchange centers (交换中心) and links, pure: what makes a center code, a NATS URL or a link acceptable,
// each refusal as a sentence naming the field and what is wrong. The store and the reachability check
// (services/nats-info.ts) stay outside; the caller passes what exists.

/** A center code: a lowercase letter, then 1 to 31 lowercase letters, digits or -. */
export const CENTER_CODE_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;
/** A JetStream domain (NATS allows letters, digits, - and _). */
const JS_DOMAIN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The port a NATS URL means when it names none. */
export const NATS_DEFAULT_PORT = 4222;

/** A refusal: the request field at fault and the sentence that says why. */
export interface Problem {
  field: string;
  problem: string;
}

/** Why `code` is not a center code, or undefined when it is one. */
export function centerCodeProblem(code: string): string | undefined {
  if (CENTER_CODE_PATTERN.test(code)) return undefined;
  return (
    `${JSON.stringify(code)} is not a center code: lowercase letters, digits and -, starting with a letter, ` +
    '2 to 32 characters (e.g. nanchang, gz-2)'
  );
}

/** Why `domain` is not a JetStream domain name, or undefined. */
export function jsDomainProblem(domain: string): string | undefined {
  return JS_DOMAIN_PATTERN.test(domain)
    ? undefined
    : `${JSON.stringify(domain)} is not a JetStream domain: letters, digits, - and _, at most 64`;
}

/** Host and port a NATS client URL points at. */
export interface NatsAddress {
  host: string;
  port: number;
}

/** The address of a nats:// or tls:// URL, or why it is not one (no path, no credentials: they would be shown to every reader). */
export function parseNatsUrl(url: string): { ok: true; address: NatsAddress } | { ok: false; problem: string } {
  const bad = (why: string) => ({ ok: false as const, problem: `${JSON.stringify(url)} is not a NATS URL: ${why}` });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad('expected nats://host:port or tls://host:port');
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:')
    return bad(`scheme ${u.protocol.replace(/:$/, '')} (expected nats or tls)`);
  if (!u.hostname) return bad('no host');
  if (u.username || u.password) return bad('credentials do not belong in a center URL');
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash)
    return bad('no path, query or fragment after host:port');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // IPv6 literals come bracketed
  return { ok: true, address: { host, port: u.port ? Number(u.port) : NATS_DEFAULT_PORT } };
}

/** The first problem of a URL list: empty when `required`, a bad URL, or the same URL twice. */
export function urlsProblem(field: string, urls: readonly string[], required: boolean): Problem | undefined {
  if (required && urls.length === 0) return { field, problem: 'at least one nats:// or tls:// URL is required' };
  const seen = new Set<string>();
  for (const [i, url] of urls.entries()) {
    const parsed = parseNatsUrl(url);
    if (!parsed.ok) return { field: `${field}.${i}`, problem: parsed.problem };
    if (seen.has(url)) return { field: `${field}.${i}`, problem: `${url} is listed twice` };
    seen.add(url);
  }
  return undefined;
}

/** The two ends of a link in a canonical order: the link a–b is the link b–a. */
export const linkPairKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

/**
 * Why a link from `a` to `b` cannot be made, or undefined: a link to itself, an end that is not a center,
 * or a pair that already has a link (`existingId`, whichever way round it was made).
 */
export function newLinkProblem(
  a: string,
  b: string,
  centerExists: (code: string) => boolean,
  existingId: string | undefined,
): (Problem & { code: 'INVALID_ARGUMENT' | 'ALREADY_EXISTS' }) | undefined {
  if (a === b) return { code: 'INVALID_ARGUMENT', field: 'b', problem: `a link joins two centers; both ends are ${a}` };
  for (const [field, code] of [
    ['a', a],
    ['b', b],
  ] as const)
    if (!centerExists(code))
      return { code: 'INVALID_ARGUMENT', field, problem: `center ${JSON.stringify(code)} not found` };
  if (existingId)
    return {
      code: 'ALREADY_EXISTS',
      field: 'b',
      problem: `centers ${a} and ${b} are already linked by link ${existingId} (a link joins a pair either way round)`,
    };
  return undefined;
}
