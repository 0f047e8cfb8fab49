// The nouns of `xchg <noun> <verb>`, in the order `xchg --help` lists them. A new noun is one file in this
// directory exporting a Noun (noun.ts), and one line here.
import { dept } from './dept.js';
import { node } from './node.js';
import type { Noun } from './noun.js';
import { region } from './region.js';
import { task } from './task.js';
import { token } from './token.js';

export type { Noun };

export const NOUNS: readonly Noun[] = [region, dept, node, token, task];
