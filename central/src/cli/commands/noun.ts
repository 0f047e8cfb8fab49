// What a noun of `xchg <noun> <verb>` provides. Its own file so that noun files and the list of nouns
// (index.ts) do not import each other.
import type { Command } from 'commander';

export interface Noun {
  name: string;
  /** One line for `xchg --help`: the English term, then the Chinese one ("regions 行政区划"). */
  summary: string;
  /** Longer text for `xchg <noun> --help`. */
  description: string;
  /** Adds the verbs to the noun's command. */
  register(cmd: Command): void;
}
