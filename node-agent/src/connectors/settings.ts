// Setting schemas shared by the connectors' binding schemas (TypeBox): the key, the source options every
// table source has, and database connection fields. Each connector's schema lists every setting with its
// default and meaning; deploy/agent.example.yaml shows them.
import { Type } from 'typebox';

/** Key column(s): one name or a list. */
export const KeySetting = Type.Union(
  [Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })],
  {
    errorMessage: 'must be a column name or a list of column names',
    description: 'Key column(s) of the records: a name or a list of names.',
  },
);

/** A table or column name (any name the database allows). */
export const NameSetting = (description: string) => Type.String({ minLength: 1, description });

/** Offered by every source, whatever its type (read by the sync runner, not by the connector). */
export const requireAgreement = Type.Optional(
  Type.Boolean({ default: false, description: 'Send only for tasks carrying an agreement (有条件共享).' }),
);

/** Settings of a table source: cursor, deletions, online-query keys. */
export const tableSourceSettings = {
  cursor: Type.Optional(
    NameSetting(
      'Column that grows with every change (e.g. updated_at, a change sequence); absent → full sync by key. Rows where it is NULL are not read.',
    ),
  ),
  deleted: Type.Optional(NameSetting('Column whose true value marks a deleted row (carried as a tombstone).')),
  queryKeys: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      description: 'Columns an online query may look up by (default: the key); each should be indexed.',
    }),
  ),
  requireAgreement,
};
