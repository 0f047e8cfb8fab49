import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: end-to-end files start several processes each; two files at a time keeps them from starving.
    maxWorkers: 2,
    reporters: ['default'],
    // Longest files first (test/sequencer.ts): a clean checkout has no duration cache.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
