// Small helpers for the stores' dynamic WHERE clauses (conditions and their placeholder values kept in step).

/** ` WHERE a AND b`, or '' without conditions. */
export const sqlWhere = (where: readonly string[]): string => (where.length ? 'WHERE ' + where.join(' AND ') : '');

/** Adds one condition of a WHERE clause and the values of its placeholders. */
export function and(where: string[], args: unknown[], condition: string, ...values: unknown[]): void {
  where.push(condition);
  args.push(...values);
}
