// Everything the CLI prints on success: one table renderer, one detail (label: value) renderer, and JSON
// for -o json (the API's answer as it came, pretty-printed with 2 spaces, so scripts can parse it).
import { displayWidth, oneLine, padEndTo, padStartTo, truncateTo } from './text.js';

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** One column of a listing. */
export interface Column<T> {
  /** Its heading. */
  header: string;
  /** The cell of a row. */
  value: (row: T) => string | number;
  /** Numbers read better right-aligned. Default left. */
  align?: 'left' | 'right';
  /** Longest value shown, in terminal columns; longer values are cut with "...". Default unlimited. */
  maxWidth?: number;
}

/** Space between table columns. */
const GAP = '   ';

/** Aligned columns under an upper-case header, padded by display width so CJK names line up. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cell = (c: Column<T>, row: T): string => {
    const s = oneLine(String(c.value(row)));
    return c.maxWidth ? truncateTo(s, c.maxWidth) : s;
  };
  const body = rows.map((row) => columns.map((c) => cell(c, row)));
  const header = columns.map((c) => c.header.toUpperCase());
  const widths = columns.map((_, i) => Math.max(...[header, ...body].map((r) => displayWidth(r[i]!))));
  const line = (cells: string[]): string =>
    cells
      .map((s, i) => (columns[i]!.align === 'right' ? padStartTo(s, widths[i]!) : padEndTo(s, widths[i]!)))
      .join(GAP)
      .trimEnd();
  return [header, ...body].map(line).join('\n');
}

export type Field = readonly [label: string, value: string | number];

/** A "label   value" block for one object (get, create, update). */
export function renderFields(fields: readonly Field[]): string {
  const width = Math.max(...fields.map(([label]) => displayWidth(label)));
  return fields.map(([label, value]) => `${padEndTo(label, width)}   ${oneLine(String(value))}`.trimEnd()).join('\n');
}

/** A titled section of a detail view: "Events:" then its content indented by two spaces. */
export function renderSection(title: string, content: string): string {
  return `${title}:\n${content
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}`;
}

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Remarks for the human beside the data (stdout stays clean for pipes). */
export function writeNote(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Prints `data` as JSON, or as the table/detail view `render` builds from it. */
export function show(format: OutputFormat, data: unknown, render: () => string): void {
  if (format === 'json') writeOut(JSON.stringify(data, null, 2));
  else writeOut(render());
}

/** Prints a list; an empty one says so on stderr in table mode, so stdout has no lone header. */
export function showList<T>(
  format: OutputFormat,
  rows: readonly T[],
  columns: readonly Column<T>[],
  what: string,
  json: unknown = rows,
): void {
  if (format === 'table' && rows.length === 0) return writeNote(`no ${what} found`);
  show(format, json, () => renderTable(rows, columns));
}
