// The dashboard's pages in nav-bar order; the first is the default route.
import { alerts } from './alerts.js';
import { brain } from './brain.js';
import { nodes } from './nodes.js';
import { overview } from './overview.js';
import type { Page } from './page.js';
import { topology } from './topology.js';

export const PAGES: readonly Page[] = [overview, nodes, topology, brain, alerts];
