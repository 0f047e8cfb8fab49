// The connector registry: binding type → settings schemas and factories of its source and sink. The agent's
// config checks every binding against its type's schema at start (bindingProblems); openSource/openSink
// open them for tasks. A new database is one dialect file and one row here.
import type { TObject } from 'typebox';
import { Value } from 'typebox/value';
import { charsetOf } from './files/encodings.js';
import { FileRecordSink } from './files/sink.js';
import { FileRecordSource } from './files/source.js';
import {
  FileRecordSinkSettings,
  FileRecordSourceSettings,
  FilesSinkSettings,
  FilesSourceSettings,
  RECORD_FILE_ENCODINGS,
} from './files/settings.js';
import { MariadbSink, MariadbSinkSettings } from './mariadb/dialect.js';
import { MariadbSource, MariadbSourceSettings } from './mariadb/source.js';
import { PostgresSink, PostgresSinkSettings } from './postgres/dialect.js';
import { PostgresSource, PostgresSourceSettings } from './postgres/source.js';
import { SqliteSink, SqliteSinkSettings } from './sqlite/dialect.js';
import { SqliteSource, SqliteSourceSettings } from './sqlite/source.js';
import type { RecordSink, RecordSource, SinkSchemaHint } from './types.js';

/** A binding as the config holds it: its type and the type's settings. */
export type BindingConfig = { type: string } & Record<string, unknown>;

export type BindingRole = 'source' | 'sink';

/** What one binding type offers. A type without a factory for a role is opened elsewhere (files: the file runners). */
export interface ConnectorType {
  /** Every setting of a source binding of this type, with defaults and descriptions (absent: not a source). */
  sourceSettings?: TObject;
  sinkSettings?: TObject;
  openSource?(name: string, cfg: BindingConfig): RecordSource;
  openSink?(name: string, cfg: BindingConfig, hint: SinkSchemaHint): RecordSink;
  /** Problems the schema cannot express, as "<setting>: <what is wrong>". */
  check?(cfg: BindingConfig): string[];
  /** Its incremental sources (a cursor column) read key-hash shards (connectors/shards.ts): a flow can be spread. */
  shardable?: true;
}

// Each factory's settings were checked against its schema when the agent started (bindingProblems).
const sqlite: ConnectorType = {
  sourceSettings: SqliteSourceSettings,
  sinkSettings: SqliteSinkSettings,
  openSource: (name, cfg) => new SqliteSource(name, cfg as never),
  openSink: (name, cfg, hint) => new SqliteSink(name, cfg as never, hint),
  shardable: true,
};
const postgres: ConnectorType = {
  sourceSettings: PostgresSourceSettings,
  sinkSettings: PostgresSinkSettings,
  openSource: (name, cfg) => new PostgresSource(name, cfg as never),
  openSink: (name, cfg, hint) => new PostgresSink(name, cfg as never, hint),
  shardable: true,
};
const mariadb: ConnectorType = {
  sourceSettings: MariadbSourceSettings,
  sinkSettings: MariadbSinkSettings,
  openSource: (name, cfg) => new MariadbSource(name, cfg as never),
  openSink: (name, cfg, hint) => new MariadbSink(name, cfg as never, hint),
  shardable: true,
};
const recordFiles: ConnectorType = {
  sourceSettings: FileRecordSourceSettings,
  sinkSettings: FileRecordSinkSettings,
  openSource: (name, cfg) => new FileRecordSource(name, cfg as never),
  openSink: (name, cfg) => new FileRecordSink(name, cfg as never),
  check: (cfg) =>
    cfg['encoding'] === undefined || (typeof cfg['encoding'] === 'string' && charsetOf(cfg['encoding']))
      ? []
      : [
          `encoding: ${JSON.stringify(cfg['encoding'])} is not supported (use one of ${RECORD_FILE_ENCODINGS.join(', ')})`,
        ],
};

/** Binding types by name. */
export const CONNECTOR_TYPES: Readonly<Record<string, ConnectorType>> = {
  sqlite,
  postgres,
  mariadb,
  mysql: mariadb,
  csv: recordFiles,
  jsonl: recordFiles,
  files: { sourceSettings: FilesSourceSettings, sinkSettings: FilesSinkSettings },
};

/** Settings whose values never appear in a problem (credentials). */
const SECRET = /^(password|url)$/i;

/**
 * Every problem of one binding, each naming it and the setting, e.g. "sources.hr.kye: unknown setting".
 * `path` is where the binding sits in the config ("sources.hr"). Values of credentials are never shown.
 */
export function bindingProblems(role: BindingRole, path: string, binding: unknown): string[] {
  if (binding === null || typeof binding !== 'object' || Array.isArray(binding))
    return [`${path}: must be a mapping of settings`];
  const cfg = binding as BindingConfig;
  const schema =
    typeof cfg.type === 'string' && Object.hasOwn(CONNECTOR_TYPES, cfg.type)
      ? CONNECTOR_TYPES[cfg.type]![`${role}Settings`]
      : undefined;
  if (!schema) {
    const known = Object.entries(CONNECTOR_TYPES)
      .filter(([, t]) => t[`${role}Settings`])
      .map(([name]) => name);
    const what = cfg.type === undefined ? 'missing (required)' : `unknown connector type ${JSON.stringify(cfg.type)}`;
    return [`${path}.type: ${what} (one of ${known.join(', ')})`];
  }
  const out: string[] = [];
  for (const e of Value.Errors(schema, cfg) as Iterable<SchemaError>) {
    const at = e.instancePath.split('/').slice(1);
    if (e.keyword === 'boolean' || (e.keyword !== 'anyOf' && e.schemaPath.includes('/anyOf/'))) continue;
    if (e.keyword === 'additionalProperties')
      for (const p of (e.params['additionalProperties'] as string[] | undefined) ?? [])
        out.push(`${path}.${p}: unknown setting`);
    else if (e.keyword === 'required')
      for (const p of (e.params['requiredProperties'] as string[] | undefined) ?? [])
        out.push(`${path}.${p}: missing (required)`);
    else {
      const setting = at[0] ?? '';
      const own = (schema.properties[setting] as { errorMessage?: string } | undefined)?.errorMessage;
      const value = SECRET.test(setting)
        ? ''
        : ` (got ${JSON.stringify(at.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], cfg))})`;
      out.push(`${path}.${at.join('.')}: ${own ?? e.message}${value}`);
    }
  }
  const type = CONNECTOR_TYPES[cfg.type]!;
  if (out.length === 0 && type.check) out.push(...type.check(cfg).map((p) => `${path}.${p}`));
  return [...new Set(out)];
}

interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}
