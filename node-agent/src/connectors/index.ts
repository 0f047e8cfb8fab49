// Opens the connector a binding names. Connector-specific settings are checked here, with the binding
// named in every error.
import { MariadbSink, type MariadbSinkConfig } from './mariadb/dialect.js';
import { MariadbSource, type MariadbSourceConfig } from './mariadb/source.js';
import { PostgresSink, type PostgresSinkConfig } from './postgres/dialect.js';
import { PostgresSource, type PostgresSourceConfig } from './postgres/source.js';
import { FileRecordSink, FileRecordSource, type FileRecordSinkConfig, type FileRecordSourceConfig } from './files-records.js';
import { SqliteSink } from './sqlite/dialect.js';
import { SqliteSource, type SqliteSourceConfig } from './sqlite/source.js';
import type { SqliteSinkConfig } from './sqlite/dialect.js';
import { ConnectorError, type RecordSink, type RecordSource, type SinkSchemaHint } from './types.js';

export type BindingConfig = { type: string } & Record<string, unknown>;

export function openSource(name: string, cfg: BindingConfig | undefined): RecordSource {
  if (!cfg) throw new ConnectorError(name, 'no such source in this agent config (sources:)');
  switch (cfg.type) {
    case 'sqlite':
      return new SqliteSource(name, cfg as unknown as SqliteSourceConfig);
    case 'csv':
    case 'jsonl':
      return new FileRecordSource(name, cfg as unknown as FileRecordSourceConfig);
    case 'postgres':
      return new PostgresSource(name, cfg as unknown as PostgresSourceConfig);
    case 'mariadb':
    case 'mysql':
      return new MariadbSource(name, cfg as unknown as MariadbSourceConfig);
    default:
      throw new ConnectorError(name, `source type ${cfg.type} is not supported for records`);
  }
}

export function openSink(name: string, cfg: BindingConfig | undefined, hint: SinkSchemaHint): RecordSink {
  if (!cfg) throw new ConnectorError(name, 'no such sink in this agent config (sinks:)');
  switch (cfg.type) {
    case 'sqlite':
      return new SqliteSink(name, cfg as unknown as SqliteSinkConfig, hint);
    case 'csv':
    case 'jsonl':
      return new FileRecordSink(name, cfg as unknown as FileRecordSinkConfig);
    case 'postgres':
      return new PostgresSink(name, cfg as unknown as PostgresSinkConfig, hint);
    case 'mariadb':
    case 'mysql':
      return new MariadbSink(name, cfg as unknown as MariadbSinkConfig, hint);
    default:
      throw new ConnectorError(name, `sink type ${cfg.type} is not supported for records`);
  }
}
