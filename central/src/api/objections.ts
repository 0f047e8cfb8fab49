// Objections (疑义/纠错): a consumer flags received data as wrong, the provider answers after verification
// (校核) (/api/v1/objections).
import { Type, type Static } from 'typebox';
import { Code, Id, Nullable, ResourceCode } from './common.js';

export const OBJECTION_STATES = ['open', 'answered'] as const;
export const OBJECTION_RESULTS = ['corrected', 'confirmed_correct'] as const;
export type ObjectionResult = (typeof OBJECTION_RESULTS)[number];

export const Objection = Type.Object({
  id: Type.String(),
  resourceCode: Type.String(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  recordKey: Type.String(),
  note: Type.String(),
  raisedBy: Type.String(),
  raisedAt: Type.Integer(),
  status: Type.Enum([...OBJECTION_STATES]),
  result: Nullable(Type.Enum([...OBJECTION_RESULTS])),
  answerNote: Type.String(),
  answeredBy: Nullable(Type.String()),
  answeredAt: Nullable(Type.Integer()),
});
export type Objection = Static<typeof Objection>;

/** GET /objections; `department` matches the consumer or the provider. */
export const ObjectionQuery = Type.Object(
  {
    resource: Type.Optional(ResourceCode),
    department: Type.Optional(Code),
    status: Type.Optional(Type.Enum([...OBJECTION_STATES])),
  },
  { additionalProperties: false },
);

/** POST /objections. */
export const RaiseObjectionBody = Type.Object(
  {
    resourceCode: ResourceCode,
    consumerDepartmentCode: Type.Optional(Code),
    recordKey: Type.Optional(Type.String({ maxLength: 200, description: 'the record concerned, e.g. id=42' })),
    note: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type RaiseObjectionBody = Static<typeof RaiseObjectionBody>;

/** POST /objections/:id/answer. */
export const AnswerObjectionBody = Type.Object(
  { result: Type.Enum([...OBJECTION_RESULTS]), note: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export type AnswerObjectionBody = Static<typeof AnswerObjectionBody>;

/** `{ id }` of an objection in the path. */
export const ObjectionParams = Type.Object({ id: Id });
