// Building blocks of central's HTTP API (/api/v1) that every area uses: codes, names and ids, the error
// body, the answer of a deletion. Every record of the API is a TypeBox schema with its Static<> type, declared
// once in api/<area>.ts and used by routes (request and response schemas), services, store and CLI.
// api/ imports typebox and common/ only, so the CLI depends on the wire contract and nothing else.
import { Type, type Static, type TNull, type TSchema, type TUnion } from 'typebox';

/** A region or department code (行政区划代码, 部门代码): letters, digits, - and _, at most 32. */
export const Code = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'stable code, letters, digits, - and _',
});
/** A display name: 1 to 100 characters. */
export const Name = Type.String({ minLength: 1, maxLength: 100 });
/** The id of a record central made (node, task, application, agreement, subscription, run). */
export const Id = Type.String({ minLength: 1, maxLength: 64 });
/** A resource code (资源代码): letters, digits, . - _, at most 64. */
export const ResourceCode = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'resource code (资源代码), letters, digits, . - _',
});
/** Free-form structured details (JSON object). */
export const Details = Type.Record(Type.String(), Type.Unknown());
/** A listing's page size: at most 10,000. */
export const Limit = Type.Integer({ minimum: 1, maximum: 10_000 });

/** `t` or null. */
export function Nullable<T extends TSchema>(t: T): TUnion<[T, TNull]> {
  return Type.Union([t, Type.Null()]);
}

/** `{ id }` in the path. */
export const IdParams = Type.Object({ id: Id });
/** `{ code }` (region or department) in the path. */
export const CodeParams = Type.Object({ code: Code });

/** Every error answer: `{ error: { code, message, field? } }` (code from central's error catalogue). */
export const ApiErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});
export type ApiErrorBody = Static<typeof ApiErrorBody>;

/** The 204 answer of a deletion: no body. */
export const NoContent = Type.Null({ description: 'done; no body' });

/** The optional body `{ reason? }` of enable/disable and similar actions (an absent body means no reason). */
export const OptionalReasonBody = Type.Optional(
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
);
