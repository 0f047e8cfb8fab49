// The page cache every SQLite connection of the agent keeps (spool and SQLite connectors alike).
import type { Database } from 'better-sqlite3';

/**
 * Page cache per connection, KiB (2 MiB). better-sqlite3 is built with SQLITE_DEFAULT_CACHE_SIZE=-16000
 * (16 MB per connection); the agent's connections read and write mostly sequentially (outbox appends,
 * cursor-ordered scans, batched inserts), where the OS page cache serves re-reads as well, and four
 * connections at 16 MB each were a fifth of the agent's peak RSS in the bench.
 */
export const PAGE_CACHE_KIB = 2048;

/** Sets the connection's page cache to PAGE_CACHE_KIB (a negative cache_size is in KiB: sqlite.org/pragma.html#pragma_cache_size). */
export function limitPageCache(db: Database): void {
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}
