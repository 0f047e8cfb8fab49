// /api/v1/centers, /api/v1/links and PUT /api/v1/nodes/:id/center: exchange centers (交换中心), the links
// between them, and moving a node to another center. Province admins and operators change them; a city
// admin sees the centers placed in its region subtree and the links with an end at one of them.
import { Type } from 'typebox';
import {
  Center,
  CenterHealth,
  CenterParams,
  CenterQuery,
  CreateCenterBody,
  CreateLinkBody,
  Link,
  LinkParams,
  LinkQuery,
  MoveNodeBody,
  UpdateCenterBody,
  UpdateLinkBody,
} from '../../api/centers.js';
import { IdParams, NoContent } from '../../api/common.js';
import { LinkView } from '../../api/routing.js';
import { Node } from '../../api/nodes.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { principal, requireRole, WRITERS } from '../auth.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

export function registerCenterRoutes(app: App, deps: HttpDeps): void {
  registerCenterReads(app, deps);
  registerCenterWrites(app, deps);
  registerLinkRoutes(app, deps);
  registerNodeMove(app, deps);
}

const CHECK_NOTE =
  'Central connects to every URL and reads the NATS INFO line (centers.urlCheckTimeoutMs each); when none ' +
  'answers the request is refused naming the URLs (409 FAILED_PRECONDITION). check: false skips this, to ' +
  'register a center before it runs.';

/** The codes of the centers a city admin sees (placed in its region subtree); undefined: all. */
export function visibleCenters(req: Parameters<typeof scopeOf>[0], deps: HttpDeps): Set<string> | undefined {
  const scope = scopeOf(req, deps);
  return scope && new Set(deps.centers.list({ regionCodes: scope }).map((c) => c.code));
}

export function outOfScope(req: Parameters<typeof principal>[0], what: string): XchgError {
  const p = principal(req);
  return new XchgError(
    ErrorCode.PERMISSION_DENIED,
    `${p.role} ${p.name} sees the exchange centers of region ${p.regionCode ?? '?'} and below only, not ${what}`,
  );
}

function registerCenterReads(app: App, deps: HttpDeps): void {
  app.get(
    '/centers',
    {
      schema: {
        tags: ['centers'],
        summary: 'List exchange centers (交换中心), optionally in one region (and below) or at one level',
        querystring: CenterQuery,
        response: { 200: Type.Array(Center) },
      },
    },
    async (req) => {
      const regionCodes = scopeOf(req, deps, req.query.region);
      return deps.centers.list({
        ...(regionCodes && { regionCodes }),
        ...(req.query.level && { level: req.query.level }),
      });
    },
  );

  app.get(
    '/centers/:code',
    { schema: { tags: ['centers'], summary: 'One exchange center', params: CenterParams, response: { 200: Center } } },
    async (req) => {
      const c = deps.centers.get(req.params.code);
      const visible = visibleCenters(req, deps);
      if (visible && !visible.has(c.code)) throw outOfScope(req, `center ${c.code}`);
      return c;
    },
  );

  app.get(
    '/centers/:code/health',
    {
      schema: {
        tags: ['centers'],
        summary:
          "The latest sample of the center's nats-server monitoring endpoint (/varz, /jsz: connections, memory, " +
          'JetStream storage used and reserved, streams, consumers, pending), taken every alerts.centerCheckIntervalMs',
        params: CenterParams,
        response: { 200: CenterHealth },
      },
    },
    async (req) => {
      const health = deps.centers.health(req.params.code); // 404 for a center that does not exist
      const visible = visibleCenters(req, deps);
      if (visible && !visible.has(req.params.code)) throw outOfScope(req, `center ${req.params.code}`);
      return health;
    },
  );
}

function registerCenterWrites(app: App, deps: HttpDeps): void {
  app.post(
    '/centers',
    {
      schema: {
        tags: ['centers'],
        summary: `Register an exchange center. ${CHECK_NOTE}`,
        body: CreateCenterBody,
        response: { 201: Center },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(await deps.centers.create(req.body, p));
    },
  );

  app.patch(
    '/centers/:code',
    {
      schema: {
        tags: ['centers'],
        summary: `Change a center; new URLs reach its nodes with their next poll. ${CHECK_NOTE}`,
        params: CenterParams,
        body: UpdateCenterBody,
        response: { 200: Center },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.centers.update(req.params.code, req.body, p);
    },
  );

  app.delete(
    '/centers/:code',
    {
      schema: {
        tags: ['centers'],
        summary: "Delete a center no node calls home and no link ends at (never central's default center)",
        params: CenterParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.centers.delete(req.params.code, p);
      return noContent(reply);
    },
  );
}

const WITH_STATE =
  'with its state from the probes (up/degraded/down, one-way p50/p99 = probe round trip / 2, loss, load, ' +
  'queue, staleness, probe overhead)';

function registerLinkRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/links',
    {
      schema: {
        tags: ['centers'],
        summary: `List links between centers, optionally those at one center, each ${WITH_STATE}`,
        querystring: LinkQuery,
        response: { 200: Type.Array(LinkView) },
      },
    },
    async (req) => {
      const centers = visibleCenters(req, deps);
      const links = deps.links.list({
        ...(req.query.center && { center: req.query.center }),
        ...(centers && { centers: [...centers] }),
      });
      return deps.routing.links(links);
    },
  );

  app.get(
    '/links/:id',
    {
      schema: { tags: ['centers'], summary: `One link ${WITH_STATE}`, params: LinkParams, response: { 200: LinkView } },
    },
    async (req) => {
      const l = deps.links.get(req.params.id);
      const visible = visibleCenters(req, deps);
      if (visible && !visible.has(l.a) && !visible.has(l.b)) throw outOfScope(req, `link ${l.id} (${l.a}–${l.b})`);
      return deps.routing.links([l])[0]!;
    },
  );

  app.post(
    '/links',
    {
      schema: {
        tags: ['centers'],
        summary: `Link two centers (a–b is b–a: one link per pair). ${CHECK_NOTE} Only URL lists given are checked.`,
        body: CreateLinkBody,
        response: { 201: Link },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(await deps.links.create(req.body, p));
    },
  );

  app.patch(
    '/links/:id',
    {
      schema: {
        tags: ['centers'],
        summary: `Change a link's capacity or URLs (null: the other center's natsUrls). ${CHECK_NOTE}`,
        params: LinkParams,
        body: UpdateLinkBody,
        response: { 200: Link },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.links.update(req.params.id, req.body, p);
    },
  );

  app.delete(
    '/links/:id',
    { schema: { tags: ['centers'], summary: 'Delete a link', params: LinkParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.links.delete(req.params.id, p);
      return noContent(reply);
    },
  );
}

function registerNodeMove(app: App, deps: HttpDeps): void {
  app.put(
    '/nodes/:id/center',
    {
      schema: {
        tags: ['nodes'],
        summary:
          "Move a node to another exchange center: its assignment version goes up, and its next poll answer carries the center's data plane",
        params: IdParams,
        body: MoveNodeBody,
        response: { 200: Node },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.centers.moveNode(req.params.id, req.body.center, p);
    },
  );
}
