// Users of the API and the CLI and their roles (province admin, city admin, operator, department officer,
// auditor), with the bodies that create them (/api/v1/users).
import { Type, type Static } from 'typebox';
import { Code, Nullable } from './common.js';

export const Role = {
  PROVINCE_ADMIN: 'province_admin',
  CITY_ADMIN: 'city_admin',
  OPERATOR: 'operator',
  OFFICER: 'officer',
  AUDITOR: 'auditor',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

export const RoleSchema = Type.Enum([Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.OPERATOR, Role.OFFICER, Role.AUDITOR], {
  description:
    'province_admin | city_admin (needs regionCode) | operator | officer (needs departmentCode) | auditor (read-only)',
});

export const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  regionCode: Nullable(Type.String()),
  departmentCode: Nullable(Type.String()),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  revokedAt: Nullable(Type.Integer()),
});
export type User = Static<typeof User>;

/** POST /users: the bearer token (shown once) and the user. */
export const IssuedUser = Type.Object({ token: Type.String(), user: User });
export type IssuedUser = Static<typeof IssuedUser>;

/** GET /users/me: who the presented token stands for. */
export const Whoami = Type.Object({
  name: Type.String(),
  role: RoleSchema,
  regionCode: Type.Optional(Type.String()),
  departmentCode: Type.Optional(Type.String()),
});
export type Whoami = Static<typeof Whoami>;

/** POST /users. */
export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s]+$', description: 'login name, no spaces' }),
    role: RoleSchema,
    regionCode: Type.Optional(Code),
    departmentCode: Type.Optional(Code),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;
