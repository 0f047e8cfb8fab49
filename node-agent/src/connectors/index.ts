// Opens the connector a binding names, through the registry (connectors/registry.ts). The settings were
// checked against the type's schema when the agent started; each connector checks what it needs again,
// with the binding named in every error.
import { CONNECTOR_TYPES, type BindingConfig } from './registry.js';
import { ConnectorError, type RecordSink, type RecordSource, type SinkSchemaHint } from './types.js';

export {
  bindingProblems,
  CONNECTOR_TYPES,
  type BindingConfig,
  type BindingRole,
  type ConnectorType,
} from './registry.js';

export function openSource(name: string, cfg: BindingConfig | undefined): RecordSource {
  if (!cfg) throw new ConnectorError(name, 'no such source in this agent config (sources:)');
  const open = Object.hasOwn(CONNECTOR_TYPES, cfg.type) ? CONNECTOR_TYPES[cfg.type]!.openSource : undefined;
  if (!open) throw new ConnectorError(name, `source type ${cfg.type} is not supported for records`);
  return open(name, cfg);
}

export function openSink(name: string, cfg: BindingConfig | undefined, hint: SinkSchemaHint): RecordSink {
  if (!cfg) throw new ConnectorError(name, 'no such sink in this agent config (sinks:)');
  const open = Object.hasOwn(CONNECTOR_TYPES, cfg.type) ? CONNECTOR_TYPES[cfg.type]!.openSink : undefined;
  if (!open) throw new ConnectorError(name, `sink type ${cfg.type} is not supported for records`);
  return open(name, cfg, hint);
}
