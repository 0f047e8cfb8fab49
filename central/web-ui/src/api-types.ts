// The records of central's dashboard API the pages read, taken from central's own TypeBox schemas (types only:
// nothing of central is bundled), so a page cannot drift from what the API answers.
export type { Alert } from '../../src/api/alerts.js';
export type { DashboardNodeDetail, DashboardNodeRow, DashboardNodes, NodeSort } from '../../src/api/dashboard-nodes.js';
export type {
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
  RankingRange,
} from '../../src/api/dashboard-pages.js';
