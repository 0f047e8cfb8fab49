// Binding settings of the directory connectors: CSV and JSON-lines record files (csv, jsonl) and any files
// (files: sent whole in chunks by the file runners). Checked when the agent starts (connectors/registry.ts).
import { Type, type Static } from 'typebox';
import { KeySetting, requireAgreement } from '../settings.js';
import { ConnectorError, asList } from '../types.js';
import { CHARSETS, charsetOf, RECORD_FILE_ENCODINGS, type Charset } from './encodings.js';

export { RECORD_FILE_ENCODINGS };
import type { RecordFileFormat } from './reader.js';

const format = Type.Union([Type.Literal('csv'), Type.Literal('jsonl')], { errorMessage: 'must be csv or jsonl' });
const encoding = Type.Optional(
  Type.String({
    default: 'utf-8',
    description: `Text encoding of the files: ${RECORD_FILE_ENCODINGS.join(', ')} (case-insensitive). Reading, a BOM at the start of a file wins; UTF-16 sinks write one.`,
  }),
);
const nullString = Type.Optional(
  Type.String({
    maxLength: 64,
    pattern: '^[^",\\r\\n]*$',
    default: '',
    errorMessage: "must be text of at most 64 characters without '\"', ',', CR or LF (e.g. \\N)",
    description:
      'CSV only: the unquoted field text that is NULL (COPY\'s NULL option, e.g. \\N); "" is always the empty string.',
  }),
);

export const FileRecordSourceSettings = Type.Object(
  {
    type: format,
    dir: Type.String({
      minLength: 1,
      description: 'Directory holding the files (must exist); complete files are read in name order.',
    }),
    key: KeySetting,
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Glob on file names ('*' any run, '?' one character); default *.csv or *.jsonl by type.",
      }),
    ),
    encoding,
    nullString,
    maxLineBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        default: 16 * 1024 * 1024,
        description: 'Longest line (CSV: record) accepted, in bytes; a longer one is quarantined.',
      }),
    ),
    requireAgreement,
  },
  { additionalProperties: false },
);
/** Settings of a csv/jsonl source binding (each described, with its default, in FileRecordSourceSettings). */
export type FileRecordSourceConfig = Static<typeof FileRecordSourceSettings>;

export const FileRecordSinkSettings = Type.Object(
  {
    type: format,
    dir: Type.String({ minLength: 1, description: 'Directory the batch files are written to (created when missing).' }),
    key: KeySetting,
    encoding,
    nullString,
  },
  { additionalProperties: false },
);
/** Settings of a csv/jsonl sink binding (each described, with its default, in FileRecordSinkSettings). */
export type FileRecordSinkConfig = Static<typeof FileRecordSinkSettings>;

export const FilesSourceSettings = Type.Object(
  {
    type: Type.Literal('files'),
    dir: Type.String({
      minLength: 1,
      description: 'Directory whose files (any kind) are sent, each as a consistent version.',
    }),
    stableMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 2000,
        description:
          'Settle time in ms: a file whose mtime is younger is not started yet; a file changed while sent is sent again once settled.',
      }),
    ),
    requireAgreement,
  },
  { additionalProperties: false },
);

export const FilesSinkSettings = Type.Object(
  {
    type: Type.Literal('files'),
    dir: Type.String({
      minLength: 1,
      description: 'Directory received files are written to, under their relative paths.',
    }),
  },
  { additionalProperties: false },
);

/** What the constructors of a csv/jsonl source and sink check first (with the binding named). */
export interface Common {
  format: RecordFileFormat;
  dir: string;
  keys: string[];
  charset: Charset;
  nullString: string;
}

export function checkCommon(binding: string, cfg: Record<string, unknown>, allowed: string[], what: string): Common {
  // A key set to undefined is absent (callers spread a binding and unset what does not apply, e.g. cursor).
  const unknown = Object.keys(cfg).filter((k) => cfg[k] !== undefined && !allowed.includes(k));
  const problems: string[] = [];
  if (unknown.length) problems.push(`unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const format = cfg['type'];
  if (format !== 'csv' && format !== 'jsonl') problems.push(`type must be csv or jsonl`);
  const dir = cfg['dir'];
  if (typeof dir !== 'string' || !dir) problems.push('dir is required');
  const keys = asList(cfg['key']);
  if (keys.length === 0) problems.push('key is required (key: id)');
  const enc = cfg['encoding'];
  let charset = CHARSETS['utf-8'];
  if (enc !== undefined) {
    const c = typeof enc === 'string' ? charsetOf(enc) : undefined;
    if (c) charset = c;
    else
      problems.push(
        `encoding ${JSON.stringify(enc)} is not supported (use one of ${RECORD_FILE_ENCODINGS.join(', ')})`,
      );
  }
  const nul = cfg['nullString'];
  if (nul !== undefined) {
    if (format === 'jsonl') problems.push('nullString applies to csv only (JSON has null)');
    else if (typeof nul !== 'string' || nul.length > 64 || /[",\r\n]/.test(nul))
      problems.push("nullString must be text of at most 64 characters without '\"', ',', CR or LF (e.g. \\N)");
  }
  if (problems.length) throw new ConnectorError(binding, `${String(format)} ${what}: ${problems.join('; ')}`);
  return {
    format: format as RecordFileFormat,
    dir: dir as string,
    keys,
    charset,
    nullString: (nul as string | undefined) ?? '',
  };
}
