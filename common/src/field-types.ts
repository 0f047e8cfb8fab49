// Field types of a resource's fields (字段类型), shared by central's catalog and the agent's pipeline so
// the two never disagree on what a type name means.
//   string    text (any Unicode, '' distinct from NULL)
//   integer   64-bit signed integer (−2^63 … 2^63−1), exact
//   number    IEEE-754 double; a value a double cannot hold exactly is refused, never rounded
//   decimal   exact decimal of any precision (NUMERIC/DECIMAL)
//   boolean   true / false
//   date      calendar date YYYY-MM-DD
//   time      time of day HH:MM:SS[.ffffff]
//   datetime  date and time to the microsecond; without a time zone it is wall-clock time and is never
//             shifted into any zone; with one it is an instant (kept in UTC). Sinks create a column
//             without zone (TIMESTAMP, DATETIME(6)), where an instant lands as its UTC wall clock.
//   timestamptz  an instant (date and time with a time zone, kept in UTC); a value without a zone is
//             refused as ambiguous. Sinks create TIMESTAMPTZ (PostgreSQL), TIMESTAMP (MariaDB, UTC).
//   binary    bytes (BLOB, bytea): photos, scanned documents
//   json      a JSON document
export const FIELD_TYPES = [
  'string',
  'integer',
  'number',
  'decimal',
  'boolean',
  'date',
  'time',
  'datetime',
  'timestamptz',
  'binary',
  'json',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
