// Alarms (告警) as the API lists them (/api/v1/alerts): applications past their deadline, tasks a node
// refused, reconciliation that found drift or failed.
import { Type, type Static } from 'typebox';
import { Code, Limit } from './common.js';

export const Alert = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  entityId: Type.String(),
  departmentCode: Type.String(),
  message: Type.String(),
  at: Type.Integer(),
});
export type Alert = Static<typeof Alert>;

/** GET /alerts. */
export const AlertQuery = Type.Object(
  { kind: Type.Optional(Type.String({ maxLength: 64 })), department: Type.Optional(Code), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
