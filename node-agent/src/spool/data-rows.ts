// Rows of the data spool's tables and their mapping to the records DataSpool hands out (data-spool.ts).
import { fromDriver } from '../values/value.js';
import { toWire } from '../values/wire.js';

export interface OutboxBatch {
  id: number;
  batchId: string;
  taskId: string;
  epoch: string;
  sequence: number;
  subject: string;
  envelope: Buffer;
  records: number;
  bytes: number;
  createdAt: number;
  publishedAt: number | null;
  sendCount: number;
}

export interface QuarantineEntry {
  id: number;
  taskId: string;
  side: 'provider' | 'consumer';
  origin: string;
  rowIndex: number;
  reason: string;
  field: string | null;
  /** The original values in wire form (values/wire.ts); recordFromWire() gives them back as model values. */
  record: Record<string, unknown>;
  createdAt: number;
  resentAt: number | null;
}

export interface OutboxRow {
  id: number;
  batch_id: string;
  task_id: string;
  epoch: string;
  sequence: number;
  subject: string;
  envelope: Buffer;
  records: number;
  bytes: number;
  created_at: number;
  published_at: number | null;
  send_count: number;
}
export const toBatch = (r: OutboxRow): OutboxBatch => ({
  id: r.id,
  batchId: r.batch_id,
  taskId: r.task_id,
  epoch: r.epoch,
  sequence: r.sequence,
  subject: r.subject,
  envelope: r.envelope,
  records: r.records,
  bytes: r.bytes,
  createdAt: r.created_at,
  publishedAt: r.published_at,
  sendCount: r.send_count,
});
export interface QRow {
  id: number;
  task_id: string;
  side: 'provider' | 'consumer';
  origin: string;
  row_index: number;
  reason: string;
  field: string | null;
  record: string;
  created_at: number;
  resent_at: number | null;
}
export const toEntry = (r: QRow): QuarantineEntry => ({
  id: r.id,
  taskId: r.task_id,
  side: r.side,
  origin: r.origin,
  rowIndex: r.row_index,
  reason: r.reason,
  field: r.field,
  record: JSON.parse(r.record) as Record<string, unknown>,
  createdAt: r.created_at,
  resentAt: r.resent_at,
});

/** A quarantined record as stored and reported: its original values in wire form (values/wire.ts). */
export function quarantineRecord(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = toWire(fromDriver(v));
  return out;
}
