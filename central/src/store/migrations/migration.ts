// The shape of one numbered schema migration of central.db (the list is store/migrations.ts).

/** One schema change: applied once, in order of `version`, inside one transaction. */
export interface Migration {
  /** PRAGMA user_version after this migration; one more than the previous one. */
  version: number;
  /** What it adds, for people reading the list. */
  name: string;
  /** The statements, run with exec(). */
  sql: string;
}
