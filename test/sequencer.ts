// Runs the longest test files first, so that with two workers the suite's wall time is close to its total
// time divided by two instead of ending with one long file alone on one worker (the 5-minute fault test
// started last made the suite 24 min instead of ~16). Vitest orders by its own cache of durations, which a
// clean checkout (CI) does not have; then it runs larger files first, and file size says little about time.
// test/durations.json holds seconds per file measured in a full run (files under 5 s left out); files it
// does not list come after the listed ones that take over 20 s, largest first, as Vitest would do.
// Refresh it from a full run's output: each "✓ test/<file> (N tests) <ms>ms" line gives a file's time.
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const durations = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<
  string,
  number
>;
/** Seconds assumed for a file missing from durations.json (a new one): after the long files, before short ones. */
const UNKNOWN_S = 20;

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const weight = (f: TestSpecification): number => {
      const known = durations[relative(root, f.moduleId)];
      return known ?? UNKNOWN_S - 1 / (1 + statSync(f.moduleId).size);
    };
    const weights = new Map(files.map((f) => [f, weight(f)]));
    return [...files].sort((a, b) => weights.get(b)! - weights.get(a)!);
  }
}
