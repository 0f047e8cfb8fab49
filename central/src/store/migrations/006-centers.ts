// Migration 6: exchange centers (交换中心), the links between them, and each node's home center.
import type { Migration } from './migration.js';

export const centers: Migration = {
  version: 6,
  name: 'exchange centers, links, home center of nodes',
  sql: `
-- Exchange centers: NATS servers (or clusters) nodes attach to. region_code is NULL only for the center
-- central makes from its config at start (dataPlane.homeCenter) until an operator places it in a region.
CREATE TABLE centers (
  code        TEXT PRIMARY KEY,                  -- lowercase slug, e.g. 'province', 'nanchang'
  name        TEXT NOT NULL,
  region_code TEXT REFERENCES regions(code),
  level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  nats_urls   TEXT NOT NULL,                     -- JSON array of nats:// or tls:// URLs, at least one
  js_domain   TEXT UNIQUE,                       -- JetStream domain, when the center has its own
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX centers_region ON centers (region_code);

-- Links between two centers, unordered: a–b is b–a (the pair index). urls_*: what the relay at one end
-- dials to reach the other (JSON array), NULL for the other center's nats_urls.
CREATE TABLE links (
  id           TEXT PRIMARY KEY,
  a            TEXT NOT NULL REFERENCES centers(code),
  b            TEXT NOT NULL REFERENCES centers(code),
  capacity_bps INTEGER NOT NULL CHECK (capacity_bps > 0),
  urls_a_to_b  TEXT,
  urls_b_to_a  TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  CHECK (a <> b)
) STRICT;
CREATE UNIQUE INDEX links_pair ON links (min(a, b), max(a, b));
CREATE INDEX links_b ON links (b);

-- A node's home center; NULL only for nodes enrolled before centers existed, until central's start
-- assigns them its default center (dataPlane.homeCenter).
ALTER TABLE nodes ADD COLUMN home_center TEXT REFERENCES centers(code);
CREATE INDEX nodes_home_center ON nodes (home_center);
`,
};
