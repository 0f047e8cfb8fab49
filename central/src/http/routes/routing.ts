// /api/v1/routes, /api/v1/relays and /api/v1/centers/:code/relay: the route of each pair of centers with
// why it was chosen, pins, and the relay (中继) of each center. Province admins and operators pin and designate;
// a city admin sees the routes and relays touching the centers placed in its region subtree.
import { Type } from 'typebox';
import { CenterParams } from '../../api/centers.js';
import { NoContent } from '../../api/common.js';
import {
  PinRouteBody,
  Relay,
  RouteDetail,
  RouteParams,
  RouteQuery,
  RouteSummary,
  SetRelayBody,
} from '../../api/routing.js';
import { requireRole, WRITERS } from '../auth.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { outOfScope, visibleCenters } from './centers.js';

export function registerRoutingRoutes(app: App, deps: HttpDeps): void {
  registerRouteReads(app, deps);
  registerPins(app, deps);
  registerRelays(app, deps);
}

const CHOICE_NOTE =
  'Costs are ms of expected one-way delay: p50 + loss and queueing terms, plus a penalty on a degraded link ' +
  '(domain/routing.ts). A degraded or down route is left at once; a healthy one gives way only to a route ' +
  'cheaper by routing.switchMargin whose links have been healthy for routing.recoverHoldMs, after ' +
  'routing.switchHoldMs.';

function registerRouteReads(app: App, deps: HttpDeps): void {
  app.get(
    '/routes',
    {
      schema: {
        tags: ['routing'],
        summary: `List the route of every pair of centers a flow or relay needs or an operator pinned. ${CHOICE_NOTE}`,
        querystring: RouteQuery,
        response: { 200: Type.Array(RouteSummary) },
      },
    },
    async (req) => {
      const visible = visibleCenters(req, deps);
      const wanted = req.query.center;
      return deps.routing
        .list(visible ? { centers: visible } : {})
        .filter((r) => !wanted || r.from === wanted || r.to === wanted);
    },
  );

  app.get(
    '/routes/:from/:to',
    {
      schema: {
        tags: ['routing'],
        summary:
          'The route from one center to another: the chosen route, the alternatives with their costs, the probe ' +
          'evidence of every link they cross, when and why it last changed, and its history',
        params: RouteParams,
        response: { 200: RouteDetail },
      },
    },
    async (req) => {
      const { from, to } = req.params;
      requireVisible(req, deps, from, to);
      return deps.routing.show(from, to);
    },
  );
}

function requireVisible(req: Parameters<typeof visibleCenters>[0], deps: HttpDeps, from: string, to: string): void {
  const visible = visibleCenters(req, deps);
  if (visible && !visible.has(from) && !visible.has(to)) throw outOfScope(req, `the route ${from} → ${to}`);
}

function registerPins(app: App, deps: HttpDeps): void {
  app.put(
    '/routes/:from/:to/pin',
    {
      schema: {
        tags: ['routing'],
        summary:
          'Pin the route of a pair (the whole route, from first and to last): kept whatever the probes say until ' +
          'unpinned. Refused when a center does not exist, two neighbours have no link, or a center repeats',
        params: RouteParams,
        body: PinRouteBody,
        response: { 200: RouteDetail },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.routing.pin(req.params.from, req.params.to, req.body.route, p);
    },
  );

  app.delete(
    '/routes/:from/:to/pin',
    {
      schema: {
        tags: ['routing'],
        summary: "Unpin a pair's route: the cheapest usable route is chosen at once",
        params: RouteParams,
        response: { 200: RouteDetail },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.routing.unpin(req.params.from, req.params.to, p);
    },
  );
}

function registerRelays(app: App, deps: HttpDeps): void {
  app.get(
    '/relays',
    {
      schema: {
        tags: ['routing'],
        summary: 'The relay (中继) of each center, with the neighbours and probe interval it is handed',
        response: { 200: Type.Array(Relay) },
      },
    },
    async (req) => {
      const visible = visibleCenters(req, deps);
      return deps.relays.list(visible ? { centers: visible } : {});
    },
  );

  app.put(
    '/centers/:code/relay',
    {
      schema: {
        tags: ['routing'],
        summary:
          'Make a node the relay of its home center: it forwards units hop by hop and probes the center’s links ' +
          '(it receives a RelaySpec with its next poll); replaces the center’s previous relay',
        params: CenterParams,
        body: SetRelayBody,
        response: { 200: Relay },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.relays.set(req.params.code, req.body.nodeId, p);
    },
  );

  app.delete(
    '/centers/:code/relay',
    {
      schema: {
        tags: ['routing'],
        summary: 'Take the relay role from the center’s relay node',
        params: CenterParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.relays.clear(req.params.code, p);
      return noContent(reply);
    },
  );
}
