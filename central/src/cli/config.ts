// Where central is and who the caller is: flags > environment > defaults. The only file of the CLI that
// reads process.env; a token file is read only when no --token was given.
import { readFileSync } from 'node:fs';
import { usageError } from './errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** The connection flags as commander parsed them (all optional). */
/** The global flags that say where central is and who the caller is (flags win over the environment). */
export interface ConnectionFlags {
  /** --server: central's URL (default: XCHG_SERVER, else DEFAULT_SERVER). */
  server?: string;
  /** --token: the bearer token (not with --token-file; without either, XCHG_TOKEN). */
  token?: string;
  /** --token-file: a file holding the bearer token, e.g. admin.token. */
  tokenFile?: string;
}

export interface Connection {
  /** Central's base URL without a trailing slash, e.g. "http://127.0.0.1:8080". */
  server: string;
  /** Bearer token; undefined when none was given (the API call then fails with a clear message). */
  token: string | undefined;
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const server = checkServer(flags.server ?? nonEmpty(env['XCHG_SERVER']) ?? DEFAULT_SERVER);
  if (flags.token !== undefined && flags.tokenFile !== undefined)
    throw usageError('give either --token or --token-file, not both');
  let token = nonEmpty(flags.token);
  if (token === undefined && flags.tokenFile !== undefined) token = readTokenFile(flags.tokenFile);
  token ??= nonEmpty(env['XCHG_TOKEN']);
  return { server, token };
}

function checkServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--server: ${JSON.stringify(raw)} is not a URL (expected e.g. ${DEFAULT_SERVER})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--server: ${JSON.stringify(raw)} must be an http:// or https:// URL`);
  // Keep a path prefix (central behind a reverse proxy at /xchg), drop query and trailing slashes.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    throw usageError(`--token-file: cannot read ${path}: ${why}`);
  }
  const token = nonEmpty(text.trim());
  if (token === undefined) throw usageError(`--token-file: ${path} is empty`);
  return token;
}

const nonEmpty = (s: string | undefined): string | undefined => (s && s.trim() ? s.trim() : undefined);
