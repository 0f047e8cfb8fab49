// Users of the HTTP API and the CLI, with their role and scope; tokens are kept as sha-256 hashes only.
import type { Role, User } from '../api/users.js';
import type { Db } from './db.js';

export type { User } from '../api/users.js';

export class UserStore {
  constructor(private readonly db: Db) {}

  get(id: string): User | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r && toUser(r);
  }

  byName(name: string): User | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return r && toUser(r);
  }

  /** The user holding a token hash, with the stored hash for a constant-time comparison. */
  byTokenHash(hash: string): { user: User; tokenHash: string } | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE token_hash = ?').get(hash) as UserRow | undefined;
    return r && { user: toUser(r), tokenHash: r.token_hash };
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY created_at, rowid').all() as UserRow[]).map(toUser);
  }

  insert(u: User & { tokenHash: string }): void {
    this.db
      .prepare(
        `INSERT INTO users (id, name, role, region_code, department_code, token_hash, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(u.id, u.name, u.role, u.regionCode, u.departmentCode, u.tokenHash, u.createdAt, u.createdBy);
  }

  revoke(id: string, at: number): boolean {
    return (
      this.db.prepare('UPDATE users SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes === 1
    );
  }
}

interface UserRow {
  id: string;
  name: string;
  role: Role;
  region_code: string | null;
  department_code: string | null;
  token_hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}
const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  role: r.role,
  regionCode: r.region_code,
  departmentCode: r.department_code,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});
