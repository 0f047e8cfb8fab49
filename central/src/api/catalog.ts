// The resource catalog (信息资源目录): its vocabularies, resources with their fields and versions, the
// notices consumers get when a resource changes, and the bodies that catalog, change and retire resources
// (/api/v1/resources, /api/v1/notifications).
import { Type, type Static } from 'typebox';
import { FIELD_TYPES } from '../../../common/src/field-types.js';
import { Code, Details, Limit, Name, Nullable, ResourceCode } from './common.js';

export { FIELD_TYPES, type FieldType } from '../../../common/src/field-types.js';
export const SHARE_TYPES = ['unconditional', 'conditional', 'not_shared'] as const;
/** 无条件共享 · 有条件共享 · 不予共享. */
export type ShareType = (typeof SHARE_TYPES)[number];
export const SHARE_METHODS = ['database_sync', 'file_transfer', 'online_query'] as const;
/** 库表同步 · 文件传输 · 联机查询. */
export type ShareMethod = (typeof SHARE_METHODS)[number];
export const UPDATE_CYCLES = [
  'realtime',
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'yearly',
  'irregular',
] as const;
export type UpdateCycle = (typeof UPDATE_CYCLES)[number];
export const RESOURCE_STATES = ['draft', 'published', 'retired'] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

const FieldTypeSchema = Type.Enum([...FIELD_TYPES]);
const ShareTypeSchema = Type.Enum([...SHARE_TYPES], {
  description: 'unconditional 无条件共享 | conditional 有条件共享 | not_shared 不予共享',
});
const ShareMethodSchema = Type.Enum([...SHARE_METHODS]);
const UpdateCycleSchema = Type.Enum([...UPDATE_CYCLES]);
const ResourceStateSchema = Type.Enum([...RESOURCE_STATES]);

/** A field of a resource as published. */
export const ResourceField = Type.Object({
  /** The field's name as published and as consumers receive it (letters, digits, _), e.g. a standard data element name. */
  name: Type.String(),
  /** Column in the provider's source when it differs from `name` (e.g. id_no published as sfzh). */
  column: Type.Optional(Type.String()),
  type: FieldTypeSchema,
  description: Type.String(),
  required: Type.Boolean(),
  /** Personal or otherwise protected data: masked on the way out. */
  sensitive: Type.Boolean(),
  /** Masking rule for a sensitive field (name, idcard, phone, redact, keep:A:B); 'redact' when absent. */
  mask: Type.Optional(Type.String()),
});
export type ResourceField = Static<typeof ResourceField>;

const contentProperties = {
  name: Type.String(),
  description: Type.String(),
  fields: Type.Array(ResourceField),
  format: Type.String(),
  shareType: ShareTypeSchema,
  /** Conditions of use of a conditional resource (required for conditional). */
  conditions: Type.String(),
  /** Law or regulation a not-shared resource rests on (required for not_shared). */
  legalBasis: Type.String(),
  shareMethods: Type.Array(ShareMethodSchema),
  updateCycle: UpdateCycleSchema,
  /** Source name in the provider agent's config. */
  binding: Type.String(),
  /** Node of the provider department that reads the source. */
  providerNodeId: Nullable(Type.String()),
};
/** What a catalog entry says (编目): everything but its identity, owner and life-cycle state. */
export const ResourceContent = Type.Object(contentProperties);
export type ResourceContent = Static<typeof ResourceContent>;

const resourceProperties = {
  code: Type.String(),
  providerDepartmentCode: Type.String(),
  ...contentProperties,
  status: ResourceStateSchema,
  version: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  publishedAt: Nullable(Type.Integer()),
  retiredAt: Nullable(Type.Integer()),
};
/** A resource: its identity and life cycle around its current content. */
export const Resource = Type.Object(resourceProperties);
export type Resource = Static<typeof Resource>;

export const ResourceVersion = Type.Object({
  resourceCode: Type.String(),
  version: Type.Integer(),
  content: ResourceContent,
  changedKeys: Type.Array(Type.String()),
  note: Type.String(),
  at: Type.Integer(),
  by: Type.String(),
});
export type ResourceVersion = Static<typeof ResourceVersion>;

/** GET /resources/:code: the resource with every version of its content. */
export const ResourceDetail = Type.Object({ ...resourceProperties, versions: Type.Array(ResourceVersion) });
export type ResourceDetail = Static<typeof ResourceDetail>;

/** A notice to a consumer department about a resource it receives (changed, retired). */
export const Notification = Type.Object({
  id: Type.Integer(),
  departmentCode: Type.String(),
  kind: Type.String(),
  resourceCode: Type.String(),
  version: Type.Integer(),
  message: Type.String(),
  details: Details,
  createdAt: Type.Integer(),
});
export type Notification = Static<typeof Notification>;

// ── Requests ──

/** A field as an officer describes it (defaults: description '', required and sensitive false). */
export const ResourceFieldInput = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'the name consumers receive (e.g. a standard data element name)',
    }),
    column: Type.Optional(
      Type.String({ maxLength: 64, description: "the provider's source column, when it differs from name" }),
    ),
    type: FieldTypeSchema,
    description: Type.Optional(Type.String({ maxLength: 200 })),
    required: Type.Optional(Type.Boolean()),
    sensitive: Type.Optional(Type.Boolean({ description: 'masked on the way out' })),
    mask: Type.Optional(
      Type.String({
        maxLength: 32,
        description: 'rule for a sensitive field: name, idcard, phone, redact, keep:A:B (default redact)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ResourceFieldInput = Static<typeof ResourceFieldInput>;

/** The content a request may give, each with its limits. */
const contentInput = {
  name: Name,
  description: Type.String({ maxLength: 2000 }),
  fields: Type.Array(ResourceFieldInput, { minItems: 1, maxItems: 500 }),
  format: Type.String({ minLength: 1, maxLength: 32, description: 'e.g. table, csv, json, pdf, jpg' }),
  shareType: ShareTypeSchema,
  conditions: Type.String({ maxLength: 2000, description: 'conditions of use; required for conditional' }),
  legalBasis: Type.String({ maxLength: 2000, description: 'law or regulation; required for not_shared' }),
  shareMethods: Type.Array(ShareMethodSchema, { maxItems: 3 }),
  updateCycle: UpdateCycleSchema,
  binding: Type.String({
    maxLength: 64,
    pattern: '^[A-Za-z0-9_.-]*$',
    description: "source name in the provider agent's config",
  }),
  providerNodeId: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
};

/** POST /resources: catalog a resource (编目); it starts as a draft. */
export const CreateResourceBody = Type.Object(
  {
    code: ResourceCode,
    providerDepartmentCode: Code,
    name: Name,
    fields: contentInput.fields,
    shareType: contentInput.shareType,
    description: Type.Optional(contentInput.description),
    format: Type.Optional(contentInput.format),
    conditions: Type.Optional(contentInput.conditions),
    legalBasis: Type.Optional(contentInput.legalBasis),
    shareMethods: Type.Optional(contentInput.shareMethods),
    updateCycle: Type.Optional(contentInput.updateCycle),
    binding: Type.Optional(contentInput.binding),
    providerNodeId: Type.Optional(contentInput.providerNodeId),
  },
  { additionalProperties: false },
);
export type CreateResourceBody = Static<typeof CreateResourceBody>;

/** PATCH /resources/:code: what changes, and why. */
export const UpdateResourceBody = Type.Object(
  {
    name: Type.Optional(contentInput.name),
    description: Type.Optional(contentInput.description),
    fields: Type.Optional(contentInput.fields),
    format: Type.Optional(contentInput.format),
    shareType: Type.Optional(contentInput.shareType),
    conditions: Type.Optional(contentInput.conditions),
    legalBasis: Type.Optional(contentInput.legalBasis),
    shareMethods: Type.Optional(contentInput.shareMethods),
    updateCycle: Type.Optional(contentInput.updateCycle),
    binding: Type.Optional(contentInput.binding),
    providerNodeId: Type.Optional(contentInput.providerNodeId),
    note: Type.Optional(Type.String({ maxLength: 500, description: 'what changed and why (kept with the version)' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateResourceBody = Static<typeof UpdateResourceBody>;

/** `{ code }` of a resource in the path. */
export const ResourceCodeParams = Type.Object({ code: ResourceCode });

/** GET /resources. */
export const ResourceQuery = Type.Object(
  {
    status: Type.Optional(ResourceStateSchema),
    provider: Type.Optional(Code),
    shareType: Type.Optional(Type.Enum([...SHARE_TYPES])),
  },
  { additionalProperties: false },
);

/** GET /notifications. */
export const NotificationQuery = Type.Object(
  {
    department: Type.Optional(Code),
    resource: Type.Optional(ResourceCode),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
