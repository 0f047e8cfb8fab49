// The dashboard's pages in nav-bar order; the first is the default route.
import { overview } from './overview.js';
import type { Page } from './page.js';

export const PAGES: readonly Page[] = [overview];
