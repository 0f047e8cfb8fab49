// Reports within central's message limit (control/report-fit.ts, control/record-trim.ts): a quarantined record's values clipped
// with a marker that names what was cut, the original size and sha-256, while its key stays whole; many
// records split into reports that each fit; a stored report too large for any call fitted in place.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fitReport,
  quarantineReports,
  reportItemBytes,
  type QuarantineRow,
} from '../../node-agent/src/control/report-fit.js';
import { trimRecord, TRIMMED_FIELDS_KEY } from '../../node-agent/src/control/record-trim.js';
import type { ReportItem } from '../../proto/index.js';

const sha = (d: string | Buffer): string => createHash('sha256').update(d).digest('hex');
const bytes = (s: string): number => Buffer.byteLength(s);
/** 70,000 characters that differ per record (so each has its own sha-256). */
const longText = (i: number, chars = 70_000): string => `r${i}-`.padEnd(chars, 'abcdefghij');
const MARKER = /^(.*)…\[trimmed: (\d+) of (\d+) characters cut; original (\d+) bytes, sha-256 ([0-9a-f]{64})\]$/s;

describe('report fit - trimming a quarantined record', () => {
  it('report fit - the longest value is clipped to what fits, with the cut, the size and the sha-256; the rest stays', () => {
    const address = longText(1);
    const record = { id: 12345, id_no: '36010219900101123X', name: '张三', address };
    const { json, trimmed } = trimRecord(record, 1024, ['id']);
    expect(trimmed).toBe(true);
    expect(bytes(json)).toBeLessThanOrEqual(1024);
    const out = JSON.parse(json) as Record<string, string | number>;
    expect(out['id']).toBe(12345);
    expect(out['id_no']).toBe('36010219900101123X');
    expect(out['name']).toBe('张三');
    const m = MARKER.exec(String(out['address']))!;
    expect(m).not.toBeNull();
    const [, kept, cut, chars, size, hash] = m;
    expect(address.startsWith(kept!)).toBe(true);
    expect(Number(cut) + kept!.length).toBe(70_000);
    expect(Number(chars)).toBe(70_000);
    expect(Number(size)).toBe(70_000);
    expect(hash).toBe(sha(address));
    // As much as fits is kept: one more character would not fit.
    const oneMore = JSON.stringify({
      ...out,
      address: String(out['address']).replace(
        `${kept}…[trimmed: ${cut} of`,
        `${address.slice(0, kept!.length + 1)}…[trimmed: ${Number(cut) - 1} of`,
      ),
    });
    expect(bytes(oneMore)).toBeGreaterThan(1024);
  });

  it('report fit - multi-byte text counts characters and UTF-8 bytes; a record that fits is left exactly as it was', () => {
    const text = '长'.repeat(70_000);
    const out = JSON.parse(trimRecord({ id: 1, address: text }, 4096).json) as { address: string };
    const m = MARKER.exec(out.address)!;
    expect(Number(m[2]) + m[1]!.length).toBe(70_000);
    expect(Number(m[4])).toBe(210_000);
    expect(m[5]).toBe(sha(text));
    const small = { id: 1, name: '', nothing: null, n: 1.5 };
    expect(trimRecord(small, 1024)).toEqual({ json: JSON.stringify(small), trimmed: false });
  });

  it('report fit - a key column stays whole even when it is long; a binary value is described by its decoded size and hash', () => {
    const code = 'K'.repeat(600);
    const blob = Buffer.alloc(100_000, 7);
    const out = JSON.parse(
      trimRecord({ code, photo: { $: 'b', v: blob.toString('base64') }, note: 'x'.repeat(5000) }, 2048, ['code']).json,
    ) as Record<string, string>;
    expect(out['code']).toBe(code);
    expect(out['photo']).toMatch(
      new RegExp(
        `…\\[trimmed binary: \\d+ of ${blob.toString('base64').length} base64 characters cut; original 100000 bytes, sha-256 ${sha(blob)}\\]$`,
      ),
    );
    expect(out['note']).toMatch(
      /^x*…\[trimmed: \d+ of 5000 characters cut; original 5000 bytes, sha-256 [0-9a-f]{64}\]$/,
    );
  });

  it('report fit - a record of thousands of columns keeps its key and names how many fields were cut', () => {
    const record: Record<string, unknown> = { id: 'k-1' };
    for (let i = 0; i < 3000; i++) record[`c${i}`] = `value-${i}-`.padEnd(200, 'z');
    const { json } = trimRecord(record, 4096, ['id']);
    expect(bytes(json)).toBeLessThanOrEqual(4096);
    const out = JSON.parse(json) as Record<string, string>;
    expect(out['id']).toBe('k-1');
    const kept = Object.keys(out).filter((k) => k !== 'id' && k !== TRIMMED_FIELDS_KEY).length;
    expect(out[TRIMMED_FIELDS_KEY]).toBe(
      `[trimmed: ${3000 - kept} more fields cut; original record ${bytes(JSON.stringify(record))} bytes, sha-256 ${sha(JSON.stringify(record))}]`,
    );
  });
});

describe('report fit - splitting and fitting reports', () => {
  const rows: QuarantineRow[] = Array.from({ length: 70 }, (_, i) => ({
    id: i + 1,
    side: 'provider',
    origin: `cursor:${i}`,
    rowIndex: i,
    reason: 'record larger than 65536 bytes',
    field: null,
    record: { id: 5000 + i, name: `名${i}`, address: longText(i) },
    createdAt: 1_700_000_000_000 + i,
  }));

  it('report fit - 70 records of 70,000 characters go in several reports, each within the size, none lost, in order', () => {
    const bodies = quarantineReports('task-1', rows, {
      maxRecordBytes: 64 * 1024,
      maxReportBytes: 1024 * 1024,
      keyColumns: ['id'],
    });
    expect(bodies.length).toBeGreaterThan(1);
    const item = (body: Record<string, unknown>): ReportItem => ({
      reportId: 'r',
      seq: 1,
      observedAtMs: 1,
      quarantine: body,
    });
    for (const b of bodies) expect(reportItemBytes(item(b))).toBeLessThanOrEqual(1024 * 1024 + 64);
    const records = bodies.flatMap(
      (b) => b['records'] as { id: number; rowIndex: number; origin: string; reason: string; recordJson: string }[],
    );
    expect(records.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(bodies.map((b) => b['count'])).toEqual(bodies.map((b) => (b['records'] as unknown[]).length));
    expect(
      bodies.reduce((n, b) => n + (b['byReason'] as Record<string, number>)['record larger than 65536 bytes']!, 0),
    ).toBe(70);
    for (const [i, r] of records.entries()) {
      expect(bytes(r.recordJson)).toBeLessThanOrEqual(64 * 1024);
      expect(r.origin).toBe(`cursor:${i}`);
      expect(r.rowIndex).toBe(i);
      expect(r.reason).toBe('record larger than 65536 bytes');
      const v = JSON.parse(r.recordJson) as { id: number; name: string; address: string };
      expect(v.id).toBe(5000 + i);
      expect(v.name).toBe(`名${i}`);
      expect(MARKER.exec(v.address)![5]).toBe(sha(longText(i)));
    }
  });

  it('report fit - a stored report over the limit is fitted: a quarantine report keeps valid JSON per record, any other its strings clipped', () => {
    const huge = {
      taskId: 't',
      count: 3,
      byReason: { big: 3 },
      records: rows.slice(0, 3).map((r) => ({
        ...r,
        field: '',
        recordJson: JSON.stringify({ ...r.record, address: longText(r.id, 2_000_000) }),
        createdAtMs: r.createdAt,
      })),
    };
    const wrap =
      (kind: string) =>
      (body: Record<string, unknown>): ReportItem => ({ reportId: 'r', seq: 9, observedAtMs: 1, [kind]: body });
    expect(reportItemBytes(wrap('quarantine')(huge))).toBeGreaterThan(6_000_000);
    const fitted = fitReport('quarantine', huge, 256 * 1024, wrap('quarantine'), ['id'])!;
    expect(reportItemBytes(wrap('quarantine')(fitted))).toBeLessThanOrEqual(256 * 1024);
    const recs = (fitted['records'] as { recordJson: string; rowIndex: number }[]).map((r) => ({
      ...r,
      values: JSON.parse(r.recordJson) as { id: number; address: string },
    }));
    expect(recs.map((r) => [r.rowIndex, r.values.id])).toEqual([
      [0, 5000],
      [1, 5001],
      [2, 5002],
    ]);
    expect(MARKER.exec(recs[1]!.values.address)![3]).toBe('2000000');

    const event = { severity: 'warn', code: 'SINK_ERROR', message: 'm'.repeat(5_000_000), taskId: 't' };
    const fe = fitReport('event', event, 100_000, wrap('event'))!;
    expect(reportItemBytes(wrap('event')(fe))).toBeLessThanOrEqual(100_000);
    expect(fe['code']).toBe('SINK_ERROR');
    expect(String(fe['message'])).toMatch(
      /^m+…\[trimmed: \d+ of 5000000 characters cut; original 5000000 bytes, sha-256 [0-9a-f]{64}\]$/,
    );
  });
});
