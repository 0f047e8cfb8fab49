// The registry's records: regions (行政区划, province → city → county) and departments (部门), with the
// bodies that create them (/api/v1/regions, /api/v1/departments).
import { Type, type Static } from 'typebox';
import { Code, Name, Nullable } from './common.js';

export const REGION_LEVELS = ['province', 'city', 'county'] as const;
export const RegionLevel = Type.Enum([...REGION_LEVELS]);
export type RegionLevel = Static<typeof RegionLevel>;

export const Region = Type.Object({
  code: Code,
  name: Name,
  level: RegionLevel,
  parentCode: Nullable(Code),
  createdAt: Type.Integer(),
});
export type Region = Static<typeof Region>;

export const Department = Type.Object({ code: Code, name: Name, regionCode: Code, createdAt: Type.Integer() });
export type Department = Static<typeof Department>;

/** POST /regions. */
export const CreateRegionBody = Type.Object(
  { code: Code, name: Name, level: RegionLevel, parentCode: Type.Optional(Nullable(Code)) },
  { additionalProperties: false },
);
export type CreateRegionBody = Static<typeof CreateRegionBody>;

/** POST /departments. */
export const CreateDepartmentBody = Type.Object(
  { code: Code, name: Name, regionCode: Code },
  { additionalProperties: false },
);
export type CreateDepartmentBody = Static<typeof CreateDepartmentBody>;

/** GET /departments. */
export const DepartmentQuery = Type.Object({ region: Type.Optional(Code) }, { additionalProperties: false });
