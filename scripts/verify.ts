// Compares what arrived with what was sent: a sink table against its source table after the
// subscription's field mapping and masking, record by record; and file trees by sha-256.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { mask, type MaskRule } from '../node-agent/src/pipeline/mask.js';

export interface FieldMap {
  name: string;
  as?: string;
  mask?: string;
}

export interface TableCompare {
  rows: number;
  problems: string[];
}

/**
 * Compares source rows (not deleted, not excluded) with sink rows by the integer key `key`; both sides
 * are read in key order in one pass. Returns up to 20 problems (missing, extra, or wrong values).
 */
export function compareTables(
  src: { path: string; table: string; key: string; deleted?: string },
  dst: { path: string; table: string },
  fields: readonly FieldMap[],
  opts: { exclude?: ReadonlySet<number> } = {},
): TableCompare {
  const s = new Database(src.path, { readonly: true });
  const d = new Database(dst.path, { readonly: true, fileMustExist: true });
  const problems: string[] = [];
  const note = (p: string): void => void (problems.length < 20 && problems.push(p));
  const outKey = fields.find((f) => f.name === src.key)?.as ?? src.key;
  try {
    const want = s
      .prepare(`SELECT * FROM ${src.table} ${src.deleted ? `WHERE ${src.deleted} = 0` : ''} ORDER BY ${src.key}`)
      .iterate() as IterableIterator<Record<string, unknown>>;
    const got = d.prepare(`SELECT * FROM ${dst.table} ORDER BY ${outKey}`).iterate() as IterableIterator<
      Record<string, unknown>
    >;
    let rows = 0;
    let g = got.next();
    for (const row of want) {
      const id = row[src.key] as number;
      if (opts.exclude?.has(id)) continue;
      while (!g.done && (g.value[outKey] as number) < id) {
        note(`extra row ${outKey}=${String(g.value[outKey])}`);
        g = got.next();
      }
      if (g.done || g.value[outKey] !== id) {
        note(`missing row ${src.key}=${id}`);
        continue;
      }
      for (const f of fields) {
        const expected = f.mask ? mask(row[f.name], f.mask as MaskRule) : row[f.name];
        const actual = g.value[f.as ?? f.name];
        if (expected !== actual)
          note(`row ${id} field ${f.name}: want ${JSON.stringify(expected)} got ${JSON.stringify(actual)}`);
      }
      rows++;
      g = got.next();
    }
    while (!g.done) {
      note(`extra row ${outKey}=${String(g.value[outKey])}`);
      g = got.next();
    }
    return { rows, problems };
  } finally {
    s.close();
    d.close();
  }
}

function walk(root: string, dir = root, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(root, p, out);
    else out.push(relative(root, p));
  }
  return out.sort();
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Compares two directory trees (hidden entries ignored): same files, same bytes. */
export function compareTrees(src: string, dst: string): { files: number; bytes: number; problems: string[] } {
  const a = walk(src);
  const b = new Set(walk(dst));
  const problems: string[] = [];
  let bytes = 0;
  for (const f of a) {
    if (!b.has(f)) problems.push(`missing file ${f}`);
    else if (sha(join(src, f)) !== sha(join(dst, f))) problems.push(`file ${f} differs`);
    else bytes += statSync(join(src, f)).size;
    b.delete(f);
  }
  for (const f of b) problems.push(`extra file ${f}`);
  return { files: a.length, bytes, problems: problems.slice(0, 20) };
}
