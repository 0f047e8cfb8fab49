// Numbered schema migrations of central.db, one file each under migrations/. Applied in order inside one
// transaction each; the schema version is PRAGMA user_version. Never edit a released migration: add the
// next number (a new file and one line here).
import type { Migration } from './migrations/migration.js';
import { foundation } from './migrations/001-foundation.js';
import { quarantine } from './migrations/002-quarantine.js';
import { governance } from './migrations/003-governance.js';
import { reportsOrder } from './migrations/004-reports-order.js';
import { reconcile } from './migrations/005-reconcile.js';
import { centers } from './migrations/006-centers.js';
import { routing } from './migrations/007-routing.js';
import { relayProbeInterval } from './migrations/008-relay-probe-interval.js';
import { traffic } from './migrations/009-traffic.js';
import { policies } from './migrations/010-policies.js';
import { brain } from './migrations/011-brain.js';
import { alerts } from './migrations/012-alerts.js';
import { shardPlans } from './migrations/013-shard-plans.js';
import { centerHealth } from './migrations/014-center-health.js';
import { trafficDaily } from './migrations/015-traffic-daily.js';
import { taskRunDaily } from './migrations/016-task-run-daily.js';
import { alertParams } from './migrations/017-alert-params.js';
import { shardPlanOrigin } from './migrations/018-shard-plan-origin.js';

export type { Migration };

export const MIGRATIONS: readonly Migration[] = [
  foundation,
  quarantine,
  governance,
  reportsOrder,
  reconcile,
  centers,
  routing,
  relayProbeInterval,
  traffic,
  policies,
  brain,
  alerts,
  shardPlans,
  centerHealth,
  trafficDaily,
  taskRunDaily,
  alertParams,
  shardPlanOrigin,
];
