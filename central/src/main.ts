#!/usr/bin/env node
// xchg-central: the only place that wires config → logger → store → services → listen → signals.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type * as grpc from '@grpc/grpc-js';
import { compileConfig, ConfigError, configFile, type CentralConfig } from './config.js';
import { buildGrpcServer, listenGrpc } from './grpc/server.js';
import { buildApp } from './http/app.js';
import { newSecret } from './ids.js';
import { alertJobs } from './jobs/alerts.js';
import { JobWorkers } from './jobs/job-worker.js';
import { JobRunner } from './jobs/runner.js';
import { routingJobs } from './jobs/routing.js';
import { sweepJobs } from './jobs/sweeps.js';
import { brainJobs, clusterRunner } from './jobs/brain.js';
import type { ClusterRunResult } from './services/brain-clusters.js';
import { trafficJobs } from './jobs/traffic.js';
import type { Bootstrap } from './services/centers.js';
import { createServices, type ServiceOptions, type Services } from './services/index.js';
import { LoopDelayMonitor } from './loop-delay.js';
import { Store } from './store/index.js';
import { VERSION } from '../../common/src/version.js';

const USAGE = `usage: xchg-central [--config FILE] [--data-dir DIR] [--http-port N] [--grpc-port N]

Runs the exchange manager (交换管理中心): HTTP API and dashboard, gRPC AgentService for agents.
Environment: XCHG_CENTRAL_CONFIG and the XCHG_CENTRAL_* variables listed in deploy/central.example.yaml.`;

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config) return;
  const logger = pino({
    level: config.logLevel,
    base: { svc: 'xchg-central' },
    redact: ['*.token', '*.secret', '*.adminToken'],
  });
  mkdirSync(config.dataDir, { recursive: true });
  const adminToken = config.adminToken ?? loadOrCreateAdminToken(config.dataDir, logger);
  const store = Store.open(join(config.dataDir, 'central.db'));
  // Alert rules of a node run at its liveness transition (set once the jobs exist).
  const onNode: { changed?: (nodeId: string) => void } = {};
  const services = createServices(store, () => Date.now(), serviceOptions(config, logger, onNode));
  prepareCenters(services, config, logger);

  let ready = false;
  const { nodes, assignments, reports, metrics } = services;
  const grpcServer = buildGrpcServer({
    nodes,
    assignments,
    reports,
    metrics,
    logger,
    pollTimeoutMs: config.pollTimeoutMs,
    centers: services.centers,
    reconcile: services.reconcile,
    routing: services.routing,
    policies: services.policies,
    shards: services.shards,
    trafficBucketMs: config.traffic.bucketMs,
  });
  const workers = new JobWorkers(join(config.dataDir, 'central.db'));
  const runClusters = clusterRunner(services.clusters, workers);
  const app = await buildApp({
    ...services,
    runClusters,
    logger,
    adminToken,
    version: VERSION,
    ready: () => ready,
    ping: () => store.ping(),
  });

  const grpcPort = await listenGrpc(grpcServer, config.grpc.host, config.grpc.port);
  await app.listen({ host: config.http.host, port: config.http.port });
  const httpPort = (app.server.address() as { port: number }).port;

  const loop = new LoopDelayMonitor().start();
  services.metrics.watchEventLoop(loop);
  const jobs = startJobs(config, services, store, logger, onNode, runClusters);
  ready = true;
  logger.info({ httpPort, grpcPort, dataDir: config.dataDir, version: VERSION }, 'central listening');

  // SIGTERM/SIGINT: not ready → jobs finish → parked polls answered → gRPC drained (5 s at most) → HTTP
  // closed → the database last.
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    ready = false;
    logger.info({ signal }, 'central stopping');
    // A worker's run rejects at once (JobWorkersStopped); runs applying writes finish their slices.
    await workers.stop();
    await jobs.stop();
    loop.stop();
    assignments.wakeAll();
    await drainGrpc(grpcServer, 5000);
    await app.close();
    store.close();
    logger.info('central stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The exchange centers from the configuration's bootstrap, and the relays handed the probe interval; logged. */
function prepareCenters(services: Services, config: CentralConfig, logger: pino.Logger): void {
  logBootstrap(services.centers.bootstrap(), logger);
  const rehanded = services.relays.syncProbeInterval();
  if (rehanded.length)
    logger.info(
      { relays: rehanded, probeIntervalMs: config.routing.probeIntervalMs },
      'relays handed the probe interval',
    );
}

/** Central's periodic jobs, started: sweeps, routing, traffic retention, the brain, alert rules and the alert webhook. */
function startJobs(
  config: CentralConfig,
  services: Services,
  store: Store,
  logger: pino.Logger,
  onNode: { changed?: (nodeId: string) => void },
  runClusters: () => Promise<ClusterRunResult>,
): JobRunner {
  const jobs = new JobRunner(logger.child({ component: 'jobs' }), (job, ms, ok) => {
    services.metrics.jobRuns.inc({ job, outcome: ok ? 'ok' : 'failed' });
    services.metrics.jobDuration.observe({ job }, ms / 1000);
  });
  const every = {
    livenessMs: config.livenessCheckIntervalMs,
    governanceMs: config.governance.sweepIntervalMs,
    reconcileMs: config.reconcile.sweepIntervalMs,
  };
  for (const job of sweepJobs(services, logger, every)) jobs.add(job);
  const routing = { evaluateMs: config.routing.probeIntervalMs, sweepMs: config.routing.sweepIntervalMs };
  for (const job of routingJobs(services, logger, routing)) jobs.add(job);
  for (const job of trafficJobs(services, logger, config.traffic.sweepIntervalMs)) jobs.add(job);
  const brain = { clusterMs: config.brain.clusterIntervalMs, surgeMs: config.brain.surgeIntervalMs };
  for (const job of brainJobs(services, logger, brain, runClusters)) jobs.add(job);
  const alerting = alertJobs(store, services, config.alerts, logger);
  for (const job of alerting.jobs) jobs.add(job);
  onNode.changed = alerting.nodeChanged;
  jobs.start();
  return jobs;
}

/** The config from flags, environment and file; undefined after --help or --version. Exits 2 on a bad config. */
function loadConfig(): CentralConfig | undefined {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      'http-port': { type: 'string' },
      'grpc-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values.version) return void console.log(VERSION);

  const overrides: Record<string, unknown> = {};
  if (values['data-dir']) overrides['dataDir'] = values['data-dir'];
  if (values['http-port'] !== undefined) overrides['http'] = { port: Number(values['http-port']) };
  if (values['grpc-port'] !== undefined) overrides['grpc'] = { port: Number(values['grpc-port']) };
  try {
    return compileConfig({ file: configFile(values.config), overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`xchg-central: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

function serviceOptions(
  config: CentralConfig,
  logger: pino.Logger,
  onNode: { changed?: (nodeId: string) => void },
): ServiceOptions {
  const gov = config.governance;
  const livenessLog = logger.child({ component: 'liveness' });
  return {
    heartbeatTtlMs: config.heartbeatTtlMs,
    enrollTokenTtlMs: config.enrollTokenTtlMs,
    calendar: gov,
    approvalWorkingDays: gov.approvalWorkingDays,
    agreementValidityDays: gov.agreementValidityDays,
    verifyIntervalMs: config.reconcile.verifyIntervalMs,
    dataPlane: config.dataPlane,
    urlCheckTimeoutMs: config.centers.urlCheckTimeoutMs,
    routing: config.routing,
    traffic: config.traffic,
    clusters: { ...config.brain, seed: 1 },
    surges: { ...config.brain, lookbackDays: config.brain.surgeLookbackDays },
    logger,
    onTransition: (t) => {
      if (t.to === 'offline') livenessLog.warn({ nodeId: t.nodeId, reason: t.reason }, 'node offline');
      else livenessLog.info({ nodeId: t.nodeId }, 'node online');
      onNode.changed?.(t.nodeId);
    },
  };
}

/** What central's start made of the config's home center (it exists from here on). */
function logBootstrap(b: Bootstrap, logger: pino.Logger): void {
  const log = logger.child({ component: 'centers' });
  const c = b.center;
  if (b.created) log.info({ center: c.code, natsUrls: c.natsUrls }, 'home center created from the config');
  if (b.adopted) log.info({ center: c.code, nodes: b.adopted }, 'nodes without a home center attached to it');
  // The stored center is the truth once it exists: a changed config does not move it, say so.
  if (!b.created && b.configUrlsDiffer)
    log.warn(
      { center: c.code, storedUrls: c.natsUrls },
      'config dataPlane.natsUrls differ from the home center stored; the stored ones are used (xchg center update changes them)',
    );
}

/** Lets running calls finish, then forces the server down after `graceMs`. */
function drainGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

function loadOrCreateAdminToken(dataDir: string, logger: pino.Logger): string {
  const file = join(dataDir, 'admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = newSecret('xat_');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  logger.warn({ file }, 'generated the bootstrap admin token; read it from this file');
  return token;
}

main().catch((err: unknown) => {
  console.error('xchg-central: fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
