// Layered configuration shared by xchg-central and xchg-agent: DEFAULTS < file (YAML or JSON) < environment
// < flags, validated against a TypeBox schema with every problem reported at once. Pure utilities; common/
// imports neither central/ nor node-agent/ (enforced by .dependency-cruiser.cjs).
import { readFileSync } from 'node:fs';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** An environment variable and the dotted config path it sets. */
export interface EnvBinding {
  env: string;
  path: string;
  kind: 'string' | 'int' | 'list';
}

export interface LayerSources {
  /** Path of a YAML or JSON file. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence, shaped like the config (e.g. { http: { port: 0 } }). */
  overrides?: Record<string, unknown>;
}

/**
 * Merges the layers over `defaults` and validates the result against `schema`. Returns the frozen value
 * or throws ConfigError listing every problem (unknown keys, wrong types, unreadable file, bad env).
 */
export function compileLayers<T>(
  schema: TSchema,
  defaults: T,
  envTable: readonly EnvBinding[],
  sources: LayerSources,
  extraChecks: (merged: T) => string[] = () => [],
): Readonly<T> {
  const problems: string[] = [];
  const fromFile = sources.file ? readConfigFile(sources.file, problems) : {};
  const fromEnv = envLayer(sources.env ?? process.env, envTable, problems);
  const merged = merge(merge(merge(structuredClone(defaults), fromFile), fromEnv), sources.overrides ?? {});
  problems.push(...schemaProblems(Value.Errors(schema, merged) as SchemaError[], merged));
  if (problems.length === 0) problems.push(...extraChecks(merged));
  if (problems.length > 0) throw new ConfigError(problems);
  return freeze(merged);
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`config file ${file}: ${(err as Error).message}`);
    return {};
  }
  try {
    const doc = parseYaml(text) as unknown;
    if (doc === null || doc === undefined) return {};
    if (typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    problems.push(`config file ${file}: top level must be a mapping of settings`);
  } catch (err) {
    problems.push(`config file ${file}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  return {};
}

function envLayer(env: NodeJS.ProcessEnv, table: readonly EnvBinding[], problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { env: name, path, kind } of table) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw)) {
        problems.push(`${name}: expected a non-negative integer, got ${JSON.stringify(raw)}`);
        continue;
      }
      value = Number(raw);
    } else if (kind === 'list')
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const keys = path.split('.');
    let cur = out;
    for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    cur[keys.at(-1)!] = value;
  }
  return out;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** One line per problem, naming the setting by its dotted path. */
function schemaProblems(errors: readonly SchemaError[], doc: unknown): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const key = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (e.keyword === 'boolean') continue; // reported by its additionalProperties twin
    if (e.keyword === 'additionalProperties') {
      for (const p of (e.params['additionalProperties'] as string[]) ?? [])
        out.push(`${key ? key + '.' : ''}${p}: unknown setting`);
      continue;
    }
    const value = e.instancePath
      .split('/')
      .slice(1)
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
    out.push(`${key || '(root)'}: ${e.message} (got ${JSON.stringify(value)})`);
  }
  return [...new Set(out)];
}

function merge<T>(base: T, layer: Record<string, unknown>): T {
  const out = base as Record<string, unknown>;
  for (const [k, v] of Object.entries(layer)) {
    const cur = out[k];
    const bothObjects =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur);
    out[k] = bothObjects ? merge({ ...(cur as Record<string, unknown>) }, v as Record<string, unknown>) : v;
  }
  return out as T;
}

function freeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) freeze(v);
    Object.freeze(o);
  }
  return o;
}
