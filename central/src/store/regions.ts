// Regions (行政区划) and departments (部门).
import type { Department, Region, RegionLevel } from '../api/registry.js';
import type { Db } from './db.js';

export type { Department, Region, RegionLevel } from '../api/registry.js';

export class RegionStore {
  constructor(private readonly db: Db) {}

  get(code: string): Region | undefined {
    const r = this.db.prepare('SELECT * FROM regions WHERE code = ?').get(code) as RegionRow | undefined;
    return r && toRegion(r);
  }

  list(): Region[] {
    return (this.db.prepare('SELECT * FROM regions ORDER BY code').all() as RegionRow[]).map(toRegion);
  }

  insert(r: Region): void {
    this.db
      .prepare('INSERT INTO regions (code, name, level, parent_code, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(r.code, r.name, r.level, r.parentCode, r.createdAt);
  }

  /** The region and every region below it (a city admin's scope). */
  subtree(code: string): string[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE sub(code) AS (SELECT ? UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code)
         SELECT code FROM sub`,
      )
      .all(code) as { code: string }[];
    return rows.map((r) => r.code);
  }

  hasChildren(code: string): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM regions WHERE parent_code = ? UNION ALL SELECT 1 FROM departments WHERE region_code = ?
           UNION ALL SELECT 1 FROM centers WHERE region_code = ? LIMIT 1`,
        )
        .get(code, code, code) !== undefined
    );
  }

  delete(code: string): void {
    this.db.prepare('DELETE FROM regions WHERE code = ?').run(code);
  }

  getDepartment(code: string): Department | undefined {
    const r = this.db.prepare('SELECT * FROM departments WHERE code = ?').get(code) as DepartmentRow | undefined;
    return r && toDepartment(r);
  }

  listDepartments(regionCodes?: readonly string[]): Department[] {
    const rows = this.db.prepare('SELECT * FROM departments ORDER BY code').all() as DepartmentRow[];
    const scope = regionCodes && new Set(regionCodes);
    return rows.map(toDepartment).filter((d) => !scope || scope.has(d.regionCode));
  }

  insertDepartment(d: Department): void {
    this.db
      .prepare('INSERT INTO departments (code, name, region_code, created_at) VALUES (?, ?, ?, ?)')
      .run(d.code, d.name, d.regionCode, d.createdAt);
  }
}

interface RegionRow {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
  created_at: number;
}
interface DepartmentRow {
  code: string;
  name: string;
  region_code: string;
  created_at: number;
}
const toRegion = (r: RegionRow): Region => ({
  code: r.code,
  name: r.name,
  level: r.level,
  parentCode: r.parent_code,
  createdAt: r.created_at,
});
const toDepartment = (r: DepartmentRow): Department => ({
  code: r.code,
  name: r.name,
  regionCode: r.region_code,
  createdAt: r.created_at,
});
