// The result of a reconciliation (对账) run: what the consumer's agent reports and central stores and shows.
// One declaration for both sides (central and node-agent share common/ only).

export interface VerificationResult {
  rowsSource: number;
  rowsSink: number;
  rowsCompared: number;
  /** Source rows the pipeline refuses (they are in the provider's quarantine, not compared). */
  sourceRejected: number;
  buckets: number;
  bucketsDiffering: number;
  missing: number;
  extra: number;
  different: number;
  /** Up to 100 keys of each class, as objects of key column → value (wire form). */
  samples: {
    missing: Record<string, unknown>[];
    extra: Record<string, unknown>[];
    different: Record<string, unknown>[];
  };
  durationMs: number;
  rowsPerSecond: number;
  repair?: { upserts: number; tombstones: number; rejected: number };
}
