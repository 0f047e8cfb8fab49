// The one bridge from the wire contracts (proto/xchg/v1/*.proto) to code: loads the gRPC service
// definition for central and agent, and a protobufjs Root for data-plane envelopes. Both sides import this
// file and proto/gen types; they import nothing of each other.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { ProtoGrpcType } from './gen/agent.js';

export type * from './gen/agent.js';
export type { AgentServiceHandlers } from './gen/xchg/v1/AgentService.js';
export type { AgentServiceClient } from './gen/xchg/v1/AgentService.js';
export type { Assignment, Assignment__Output } from './gen/xchg/v1/Assignment.js';
export type { TaskSpec, TaskSpec__Output } from './gen/xchg/v1/TaskSpec.js';
export type { RouteSpec, RouteSpec__Output } from './gen/xchg/v1/RouteSpec.js';
export type { RelaySpec, RelaySpec__Output } from './gen/xchg/v1/RelaySpec.js';
export type { PolicySpec, PolicySpec__Output } from './gen/xchg/v1/PolicySpec.js';
export type { NodeHealth, NodeHealth__Output } from './gen/xchg/v1/NodeHealth.js';
export type { ReportItem, ReportItem__Output } from './gen/xchg/v1/ReportItem.js';
export type { ProbeReport__Output } from './gen/xchg/v1/ProbeReport.js';
export type { EnrollResponse__Output } from './gen/xchg/v1/EnrollResponse.js';
export type {
  PollAssignmentsResponse,
  PollAssignmentsResponse__Output,
} from './gen/xchg/v1/PollAssignmentsResponse.js';
export type { Envelope } from './gen/xchg/v1/Envelope.js';
export type { Receipt } from './gen/xchg/v1/Receipt.js';
export type { FileChunk } from './gen/xchg/v1/FileChunk.js';
export type { StreamProgressRequest } from './gen/xchg/v1/StreamProgressRequest.js';
export type { StreamProgressReply } from './gen/xchg/v1/StreamProgressReply.js';

/** Directory holding `xchg/v1/*.proto`, found by walking up from this module (works from src and dist). */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'xchg', 'v1', 'agent.proto'))) return dir;
    if (existsSync(join(dir, 'proto', 'xchg', 'v1', 'agent.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/xchg/v1/agent.proto not found above ' + fileURLToPath(import.meta.url));
}

/** Same conversion options as the generated types (scripts/gen-proto.mjs): keep them in step. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

/** The xchg.v1 package as grpc-js constructors and service definitions. */
export function loadXchgV1(): ProtoGrpcType['xchg']['v1'] {
  if (!cached) {
    const def = protoLoader.loadSync(['xchg/v1/agent.proto'], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return cached.xchg.v1;
}

let agentTypesCached: AgentTypes | undefined;

/** protobufjs types of control-plane messages whose encoded size the agent measures (gRPC itself uses loadXchgV1). */
export interface AgentTypes {
  ReportItem: protobuf.Type;
  QuarantinedRecord: protobuf.Type;
}

/** protobufjs types from agent.proto, loaded once. */
export function agentTypes(): AgentTypes {
  if (!agentTypesCached) {
    const root = protobuf.loadSync(join(protoDir(), 'xchg', 'v1', 'agent.proto'));
    agentTypesCached = {
      ReportItem: root.lookupType('xchg.v1.ReportItem'),
      QuarantinedRecord: root.lookupType('xchg.v1.QuarantinedRecord'),
    };
  }
  return agentTypesCached;
}

let envelopeRoot: protobuf.Root | undefined;

export interface EnvelopeTypes {
  Envelope: protobuf.Type;
  Receipt: protobuf.Type;
  StreamProgressRequest: protobuf.Type;
  StreamProgressReply: protobuf.Type;
  QueryRequest: protobuf.Type;
  QueryReply: protobuf.Type;
}

/** protobufjs types for the data plane. */
export function envelopeTypes(): EnvelopeTypes {
  if (!envelopeRoot) envelopeRoot = protobuf.loadSync(join(protoDir(), 'xchg', 'v1', 'envelope.proto'));
  return {
    Envelope: envelopeRoot.lookupType('xchg.v1.Envelope'),
    Receipt: envelopeRoot.lookupType('xchg.v1.Receipt'),
    StreamProgressRequest: envelopeRoot.lookupType('xchg.v1.StreamProgressRequest'),
    StreamProgressReply: envelopeRoot.lookupType('xchg.v1.StreamProgressReply'),
    QueryRequest: envelopeRoot.lookupType('xchg.v1.QueryRequest'),
    QueryReply: envelopeRoot.lookupType('xchg.v1.QueryReply'),
  };
}
