// Types shared by the HTTP app and its route modules (kept apart so routes do not import app.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CentralMetrics } from '../metrics.js';
import type { AssignmentService } from '../services/assignments.js';
import type { NodeService } from '../services/nodes.js';
import type { RegistryService } from '../services/registry.js';
import type { ReportService } from '../services/reports.js';

export interface HttpDeps {
  registry: RegistryService;
  nodes: NodeService;
  assignments: AssignmentService;
  reports: ReportService;
  metrics: CentralMetrics;
  logger: Logger;
  adminToken: string;
  version: string;
  /** Readiness: false while starting or draining. */
  ready: () => boolean;
  ping: () => boolean;
}

export type App = FastifyInstance<any, any, any, FastifyBaseLogger, TypeBoxTypeProvider>;

