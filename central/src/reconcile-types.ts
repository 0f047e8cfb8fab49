// Transitional: reconciliation records are declared once, in api/reconcile.ts; re-exported here until every
// importer points there (then this file goes).
export * from './api/reconcile.js';
