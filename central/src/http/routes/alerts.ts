// /api/v1/alerts: alerts (告警) newest first, one alert, acknowledgement. Scope is enforced here: an officer sees
// its own department's alerts, a city admin those of its region's departments (and their nodes) only.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AckAlertBody, Alert, AlertParams, AlertQuery } from '../../api/alerts.js';
import { Role } from '../../domain/roles.js';
import { principal, requireRole } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

const ALERTS_SUMMARY =
  'Alerts, newest first, with severity (info/warning/critical) and state (firing, acknowledged, resolved; ' +
  'state=open: firing or acknowledged). Kinds: node_offline, spool_backlog, task_failing, quarantine_growing ' +
  '(entityId: node or task), center_unreachable (a center code), application_overdue (an application), ' +
  'task_refused (<task>@<generation>), reconcile_drift and reconcile_failed (a verification run), surge_detected (a surge)';

/** Departments the caller may see alerts of; undefined: all. */
function visibleDepartments(req: FastifyRequest, deps: HttpDeps): string[] | undefined {
  const p = principal(req);
  if (p.role === Role.OFFICER) return [p.departmentCode ?? ''];
  const scope = scopeOf(req, deps);
  return scope && deps.registry.listDepartments(scope).map((d) => d.code);
}

export function registerAlertRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: ALERTS_SUMMARY,
        querystring: AlertQuery,
        response: { 200: Type.Array(Alert) },
      },
    },
    async (req) => {
      const visible = visibleDepartments(req, deps);
      const q = req.query;
      return deps.alerts.list({
        ...(q.kind && { kind: q.kind }),
        ...(q.state && { state: q.state }),
        ...(q.severity && { severity: q.severity }),
        ...(q.department && { departmentCode: q.department }),
        ...(visible && { departmentCodes: visible }),
        ...(q.limit && { limit: q.limit }),
      });
    },
  );

  app.get(
    '/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: "One alert (404 outside the caller's scope)",
        params: AlertParams,
        response: { 200: Alert },
      },
    },
    async (req) => deps.alerts.get(req.params.id, visibleDepartments(req, deps)),
  );

  app.post(
    '/alerts/:id/ack',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Acknowledge an open alert (who, when, note); 409-class FAILED_PRECONDITION when it ended or was acknowledged',
        params: AlertParams,
        body: AckAlertBody,
        response: { 200: Alert },
      },
    },
    async (req) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN, Role.OPERATOR, Role.CITY_ADMIN);
      return deps.alerts.acknowledge(req.params.id, p, req.body.note ?? '', visibleDepartments(req, deps));
    },
  );
}
