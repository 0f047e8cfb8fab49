// The nouns of `xchg <noun> <verb>`, in the order `xchg --help` lists them. A new noun is one file in this
// directory exporting a Noun (noun.ts), and one line here.
import { alert } from './alert.js';
import { audit } from './audit.js';
import { catalog } from './catalog.js';
import { center } from './center.js';
import { cluster } from './cluster.js';
import { dept } from './dept.js';
import { link } from './link.js';
import { node } from './node.js';
import type { Noun } from './noun.js';
import { objection } from './objection.js';
import { policy } from './policy.js';
import { region } from './region.js';
import { report } from './report.js';
import { route } from './route.js';
import { share } from './share.js';
import { sub } from './sub.js';
import { surge } from './surge.js';
import { task } from './task.js';
import { token } from './token.js';
import { traffic } from './traffic.js';
import { user } from './user.js';

export type { Noun };

export const NOUNS: readonly Noun[] = [
  region,
  dept,
  node,
  center,
  link,
  route,
  policy,
  traffic,
  cluster,
  surge,
  token,
  task,
  catalog,
  share,
  sub,
  objection,
  alert,
  audit,
  report,
  user,
];
