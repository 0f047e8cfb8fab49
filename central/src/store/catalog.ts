// The resource catalog: resources with their current content, every version of that content, and the
// notifications consumer departments receive when a resource they receive changes.
import type {
  Notification,
  Resource,
  ResourceContent,
  ResourceField,
  ResourceState,
  ResourceVersion,
  ShareMethod,
  ShareType,
  UpdateCycle,
} from '../api/catalog.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Notification, Resource, ResourceVersion } from '../api/catalog.js';

export interface ResourceFilter {
  status?: ResourceState;
  providerDepartmentCode?: string;
  shareType?: ShareType;
  /** Only these provider departments (a city admin's scope). */
  departmentCodes?: readonly string[];
}

export class CatalogStore {
  constructor(private readonly db: Db) {}

  get(code: string): Resource | undefined {
    const r = this.db.prepare('SELECT * FROM resources WHERE code = ?').get(code) as ResourceRow | undefined;
    return r && toResource(r);
  }

  list(f: ResourceFilter = {}): Resource[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) and(where, args, 'status = ?', f.status);
    if (f.providerDepartmentCode) and(where, args, 'provider_department_code = ?', f.providerDepartmentCode);
    if (f.shareType) and(where, args, 'share_type = ?', f.shareType);
    const rows = this.db
      .prepare(`SELECT * FROM resources ${sqlWhere(where)} ORDER BY code`)
      .all(...args) as ResourceRow[];
    const scope = f.departmentCodes && new Set(f.departmentCodes);
    return rows.map(toResource).filter((r) => !scope || scope.has(r.providerDepartmentCode));
  }

  /** Resources a sync task on `nodeId` reading `binding` would carry. */
  byBinding(nodeId: string, binding: string): Resource[] {
    return (
      this.db
        .prepare('SELECT * FROM resources WHERE provider_node_id = ? AND binding = ? ORDER BY code')
        .all(nodeId, binding) as ResourceRow[]
    ).map(toResource);
  }

  insert(r: Resource): void {
    this.db
      .prepare(
        `INSERT INTO resources (code, name, provider_department_code, description, fields_json, format, share_type, conditions,
           legal_basis, share_methods_json, update_cycle, binding, provider_node_id, status, version, created_at, updated_at,
           published_at, retired_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.code,
        r.name,
        r.providerDepartmentCode,
        r.description,
        JSON.stringify(r.fields),
        r.format,
        r.shareType,
        r.conditions,
        r.legalBasis,
        JSON.stringify(r.shareMethods),
        r.updateCycle,
        r.binding,
        r.providerNodeId,
        r.status,
        r.version,
        r.createdAt,
        r.updatedAt,
        r.publishedAt,
        r.retiredAt,
      );
  }

  /** Writes the resource's content, state, version and times (its code and provider never change). */
  update(r: Resource): void {
    this.db
      .prepare(
        `UPDATE resources SET name = ?, description = ?, fields_json = ?, format = ?, share_type = ?, conditions = ?,
           legal_basis = ?, share_methods_json = ?, update_cycle = ?, binding = ?, provider_node_id = ?, status = ?, version = ?,
           updated_at = ?, published_at = ?, retired_at = ? WHERE code = ?`,
      )
      .run(
        r.name,
        r.description,
        JSON.stringify(r.fields),
        r.format,
        r.shareType,
        r.conditions,
        r.legalBasis,
        JSON.stringify(r.shareMethods),
        r.updateCycle,
        r.binding,
        r.providerNodeId,
        r.status,
        r.version,
        r.updatedAt,
        r.publishedAt,
        r.retiredAt,
        r.code,
      );
  }

  /** Inserts a version, or replaces it when it exists (a draft's edits overwrite its one version). */
  putVersion(v: ResourceVersion): void {
    this.db
      .prepare(
        `INSERT INTO resource_versions (resource_code, version, content_json, changed_keys, note, at, by) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (resource_code, version) DO UPDATE SET content_json = excluded.content_json, changed_keys = excluded.changed_keys,
           note = excluded.note, at = excluded.at, by = excluded.by`,
      )
      .run(v.resourceCode, v.version, JSON.stringify(v.content), JSON.stringify(v.changedKeys), v.note, v.at, v.by);
  }

  versions(code: string): ResourceVersion[] {
    const rows = this.db
      .prepare('SELECT * FROM resource_versions WHERE resource_code = ? ORDER BY version')
      .all(code) as {
      resource_code: string;
      version: number;
      content_json: string;
      changed_keys: string;
      note: string;
      at: number;
      by: string;
    }[];
    return rows.map((r) => ({
      resourceCode: r.resource_code,
      version: r.version,
      content: JSON.parse(r.content_json) as ResourceContent,
      changedKeys: JSON.parse(r.changed_keys) as string[],
      note: r.note,
      at: r.at,
      by: r.by,
    }));
  }

  // --- notifications

  insertNotification(n: Omit<Notification, 'id'>): number {
    return Number(
      this.db
        .prepare(
          'INSERT INTO notifications (department_code, kind, resource_code, version, message, details_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(n.departmentCode, n.kind, n.resourceCode, n.version, n.message, JSON.stringify(n.details), n.createdAt)
        .lastInsertRowid,
    );
  }

  notifications(
    f: {
      departmentCode?: string;
      departmentCodes?: readonly string[];
      resourceCode?: string;
      since?: number;
      limit?: number;
    } = {},
  ): Notification[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.departmentCode) and(where, args, 'department_code = ?', f.departmentCode);
    if (f.resourceCode) and(where, args, 'resource_code = ?', f.resourceCode);
    if (f.since !== undefined) and(where, args, 'created_at >= ?', f.since);
    args.push(f.limit ?? 1000);
    const rows = this.db
      .prepare(`SELECT * FROM notifications ${sqlWhere(where)} ORDER BY id DESC LIMIT ?`)
      .all(...args) as {
      id: number;
      department_code: string;
      kind: string;
      resource_code: string;
      version: number;
      message: string;
      details_json: string;
      created_at: number;
    }[];
    const scope = f.departmentCodes && new Set(f.departmentCodes);
    return rows
      .filter((r) => !scope || scope.has(r.department_code))
      .map((r) => ({
        id: r.id,
        departmentCode: r.department_code,
        kind: r.kind,
        resourceCode: r.resource_code,
        version: r.version,
        message: r.message,
        details: JSON.parse(r.details_json) as Record<string, unknown>,
        createdAt: r.created_at,
      }));
  }
}

interface ResourceRow {
  code: string;
  name: string;
  provider_department_code: string;
  description: string;
  fields_json: string;
  format: string;
  share_type: ShareType;
  conditions: string;
  legal_basis: string;
  share_methods_json: string;
  update_cycle: UpdateCycle;
  binding: string;
  provider_node_id: string | null;
  status: ResourceState;
  version: number;
  created_at: number;
  updated_at: number;
  published_at: number | null;
  retired_at: number | null;
}
const toResource = (r: ResourceRow): Resource => ({
  code: r.code,
  name: r.name,
  providerDepartmentCode: r.provider_department_code,
  description: r.description,
  fields: JSON.parse(r.fields_json) as ResourceField[],
  format: r.format,
  shareType: r.share_type,
  conditions: r.conditions,
  legalBasis: r.legal_basis,
  shareMethods: JSON.parse(r.share_methods_json) as ShareMethod[],
  updateCycle: r.update_cycle,
  binding: r.binding,
  providerNodeId: r.provider_node_id,
  status: r.status,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  publishedAt: r.published_at,
  retiredAt: r.retired_at,
});
