// Transitional: the records of central's HTTP API are declared once, as TypeBox schemas, in api/<area>.ts;
// this file re-exports them under their old path until every importer points at api/ (then it goes).
export * from './api/common.js';
export * from './api/registry.js';
export * from './api/nodes.js';
export * from './api/tasks.js';
export * from './api/users.js';
export * from './api/catalog.js';
export * from './api/sharing.js';
export * from './api/alerts.js';
export * from './api/objections.js';
export * from './api/audit.js';
export * from './api/evaluation.js';
