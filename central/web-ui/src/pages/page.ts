// What a dashboard page is: the shell (main.ts) routes `#/<id>[/<arg>...]` to the page of that id, renders it
// into <main> and disposes of the previous one (charts, timers) before the next renders.
import type { Whoami } from '../api.js';
import type { MessageKey } from '../i18n/zh.js';

/** What the shell hands a page when it renders it. */
export interface PageContext {
  /** Who is signed in (role and scope). */
  me: Whoami;
  /** Goes to another route, e.g. navigate('#/nodes/n-1'). */
  navigate(hash: string): void;
  /** The route's segments after the page id (`#/nodes/n-1` gives ['n-1']), decoded; empty for `#/nodes`. */
  args: readonly string[];
}

/** One page of the dashboard; ids are route segments (lower-case, no slash). */
export interface Page {
  id: string;
  /** Its title in the nav bar. */
  title: MessageKey;
  /** Loads what the page shows and answers its element; a rejection (ApiError) is shown by the shell. */
  render(ctx: PageContext): Promise<HTMLElement>;
  /** Releases what render() holds beyond the DOM (charts, timers, listeners). */
  dispose?(): void;
}
