// The dashboard's pages in nav-bar order; the first is the default route.
import { brain } from './brain.js';
import { overview } from './overview.js';
import type { Page } from './page.js';
import { topology } from './topology.js';

export const PAGES: readonly Page[] = [overview, topology, brain];
