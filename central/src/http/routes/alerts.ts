// /api/v1/alerts: alarms (告警), newest first; an officer sees its own department's.
import { Type } from 'typebox';
import { Alert, AlertQuery } from '../../api/alerts.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';

const ALERTS_SUMMARY =
  'Alarms, newest first: application_overdue (raised by the governance sweep), task_refused (a node refused a ' +
  'task generation; entityId is <task>@<generation>), reconcile_drift and reconcile_failed (a scheduled ' +
  'verification found differences or failed; entityId is the verification run)';

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
      const p = principal(req);
      const department = p.role === 'officer' ? p.departmentCode : req.query.department;
      return deps.alerts.list({
        ...(req.query.kind && { kind: req.query.kind }),
        ...(department && { departmentCode: department }),
        ...(req.query.limit && { limit: req.query.limit }),
      });
    },
  );
}
