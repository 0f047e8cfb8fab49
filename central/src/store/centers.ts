// Exchange centers (交换中心), the links between them, and which nodes call a center home.
import type { Center, CenterLevel, Link } from '../api/centers.js';
import type { CenterFigures, CenterHealthSample } from '../domain/center-health.js';
import type { Db } from './db.js';

export type { Center, CenterLevel, Link } from '../api/centers.js';

/** What still refers to a center (a center in use is not deleted). */
export interface CenterUse {
  /** Nodes whose home center it is. */
  nodes: number;
  /** Links with the center at one end. */
  linkIds: string[];
}

export class CenterStore {
  constructor(private readonly db: Db) {}

  get(code: string): Center | undefined {
    const r = this.db.prepare('SELECT * FROM centers WHERE code = ?').get(code) as CenterRow | undefined;
    return r && toCenter(r);
  }

  /** Centers by code; `regionCodes` keeps those placed in one of these regions. */
  list(filter: { regionCodes?: readonly string[]; level?: CenterLevel } = {}): Center[] {
    const scope = filter.regionCodes && new Set(filter.regionCodes);
    return (this.db.prepare('SELECT * FROM centers ORDER BY code').all() as CenterRow[])
      .map(toCenter)
      .filter(
        (c) =>
          (!scope || (c.regionCode !== null && scope.has(c.regionCode))) && (!filter.level || c.level === filter.level),
      );
  }

  byJsDomain(domain: string): Center | undefined {
    const r = this.db.prepare('SELECT * FROM centers WHERE js_domain = ?').get(domain) as CenterRow | undefined;
    return r && toCenter(r);
  }

  insert(c: Center): void {
    this.db
      .prepare(
        `INSERT INTO centers (code, name, region_code, level, nats_urls, js_domain, monitor_url, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.code,
        c.name,
        c.regionCode,
        c.level,
        JSON.stringify(c.natsUrls),
        c.jsDomain,
        c.monitorUrl ?? null,
        c.createdAt,
        c.updatedAt,
      );
  }

  update(c: Center): void {
    this.db
      .prepare(
        `UPDATE centers SET name = ?, region_code = ?, level = ?, nats_urls = ?, js_domain = ?, monitor_url = ?,
         updated_at = ? WHERE code = ?`,
      )
      .run(
        c.name,
        c.regionCode,
        c.level,
        JSON.stringify(c.natsUrls),
        c.jsDomain,
        c.monitorUrl ?? null,
        c.updatedAt,
        c.code,
      );
    // A sample from another endpoint no longer describes the center.
    this.db
      .prepare('DELETE FROM center_health WHERE center_code = ? AND monitor_url IS NOT ?')
      .run(c.code, c.monitorUrl);
  }

  delete(code: string): void {
    this.db.prepare('DELETE FROM center_health WHERE center_code = ?').run(code);
    this.db.prepare('DELETE FROM centers WHERE code = ?').run(code);
  }

  use(code: string): CenterUse {
    const nodes = (this.db.prepare('SELECT count(*) AS n FROM nodes WHERE home_center = ?').get(code) as { n: number })
      .n;
    const links = this.db.prepare('SELECT id FROM links WHERE a = ? OR b = ? ORDER BY id').all(code, code) as {
      id: string;
    }[];
    return { nodes, linkIds: links.map((l) => l.id) };
  }

  /** Ids of the nodes whose home center is `code`. */
  nodeIds(code: string): string[] {
    return (
      this.db.prepare('SELECT id FROM nodes WHERE home_center = ? ORDER BY id').all(code) as { id: string }[]
    ).map((r) => r.id);
  }

  /** Gives every node without a home center `code`; returns how many there were. */
  adoptHomeless(code: string): number {
    return this.db.prepare('UPDATE nodes SET home_center = ? WHERE home_center IS NULL').run(code).changes;
  }

  setHomeCenter(nodeId: string, code: string): void {
    this.db.prepare('UPDATE nodes SET home_center = ? WHERE id = ?').run(code, nodeId);
  }

  // --- health (the latest monitoring sample of each center)

  putHealth(s: CenterHealthSample): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO center_health (center_code, monitor_url, sampled_at, ok, error, server_version,
           server_name, jetstream, figures_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.centerCode,
        s.monitorUrl,
        s.sampledAt,
        s.ok ? 1 : 0,
        s.error,
        s.serverVersion,
        s.serverName,
        s.jetStream ? 1 : 0,
        s.figures && JSON.stringify(s.figures),
      );
  }

  health(code: string): CenterHealthSample | undefined {
    const r = this.db.prepare('SELECT * FROM center_health WHERE center_code = ?').get(code) as HealthRow | undefined;
    return r && toHealth(r);
  }

  /** Every center's latest sample, by code. */
  healthAll(): CenterHealthSample[] {
    return (this.db.prepare('SELECT * FROM center_health ORDER BY center_code').all() as HealthRow[]).map(toHealth);
  }

  // --- links

  getLink(id: string): Link | undefined {
    const r = this.db.prepare('SELECT * FROM links WHERE id = ?').get(id) as LinkRow | undefined;
    return r && toLink(r);
  }

  /** The link between two centers, whichever way round it was made. */
  linkBetween(a: string, b: string): Link | undefined {
    const r = this.db.prepare('SELECT * FROM links WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)').get(a, b, b, a) as
      LinkRow | undefined;
    return r && toLink(r);
  }

  /** Links by id; `center` keeps those with that center at one end. */
  listLinks(filter: { center?: string } = {}): Link[] {
    const rows = filter.center
      ? (this.db
          .prepare('SELECT * FROM links WHERE a = ? OR b = ? ORDER BY id')
          .all(filter.center, filter.center) as LinkRow[])
      : (this.db.prepare('SELECT * FROM links ORDER BY id').all() as LinkRow[]);
    return rows.map(toLink);
  }

  insertLink(l: Link): void {
    this.db
      .prepare(
        `INSERT INTO links (id, a, b, capacity_bps, urls_a_to_b, urls_b_to_a, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(l.id, l.a, l.b, l.capacityBps, jsonOrNull(l.urlsAToB), jsonOrNull(l.urlsBToA), l.createdAt, l.updatedAt);
  }

  updateLink(l: Link): void {
    this.db
      .prepare('UPDATE links SET capacity_bps = ?, urls_a_to_b = ?, urls_b_to_a = ?, updated_at = ? WHERE id = ?')
      .run(l.capacityBps, jsonOrNull(l.urlsAToB), jsonOrNull(l.urlsBToA), l.updatedAt, l.id);
  }

  deleteLink(id: string): void {
    this.db.prepare('DELETE FROM links WHERE id = ?').run(id);
  }
}

const jsonOrNull = (v: readonly string[] | null): string | null => (v === null ? null : JSON.stringify(v));

interface CenterRow {
  code: string;
  name: string;
  region_code: string | null;
  level: CenterLevel;
  nats_urls: string;
  js_domain: string | null;
  monitor_url: string | null;
  created_at: number;
  updated_at: number;
}
const toCenter = (r: CenterRow): Center => ({
  code: r.code,
  name: r.name,
  regionCode: r.region_code,
  level: r.level,
  natsUrls: JSON.parse(r.nats_urls) as string[],
  jsDomain: r.js_domain,
  monitorUrl: r.monitor_url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface LinkRow {
  id: string;
  a: string;
  b: string;
  capacity_bps: number;
  urls_a_to_b: string | null;
  urls_b_to_a: string | null;
  created_at: number;
  updated_at: number;
}
const toLink = (r: LinkRow): Link => ({
  id: r.id,
  a: r.a,
  b: r.b,
  capacityBps: r.capacity_bps,
  urlsAToB: r.urls_a_to_b === null ? null : (JSON.parse(r.urls_a_to_b) as string[]),
  urlsBToA: r.urls_b_to_a === null ? null : (JSON.parse(r.urls_b_to_a) as string[]),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface HealthRow {
  center_code: string;
  monitor_url: string;
  sampled_at: number;
  ok: number;
  error: string;
  server_version: string;
  server_name: string;
  jetstream: number;
  figures_json: string | null;
}
const toHealth = (r: HealthRow): CenterHealthSample => ({
  centerCode: r.center_code,
  monitorUrl: r.monitor_url,
  sampledAt: r.sampled_at,
  ok: r.ok === 1,
  error: r.error,
  serverVersion: r.server_version,
  serverName: r.server_name,
  jetStream: r.jetstream === 1,
  figures: r.figures_json === null ? null : (JSON.parse(r.figures_json) as CenterFigures),
});
