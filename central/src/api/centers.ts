// Exchange centers (交换中心) and the links between them, with the bodies that create and change them
// (/api/v1/centers, /api/v1/links, PUT /api/v1/nodes/:id/center). A link's shape extends routing's LinkSpec
// (domain/routing.ts: id, a, b, capacityBps). Codes and URLs are checked by central with messages naming
// what is wrong (domain/centers.ts), so the schemas here only bound their size.
import { Type, type Static } from 'typebox';
import { Code, Id, Name, Nullable } from './common.js';
import { REGION_LEVELS } from './registry.js';

/** A center sits at one level of the administrative hierarchy, as regions do. */
export const CENTER_LEVELS = REGION_LEVELS;
export const CenterLevel = Type.Enum([...CENTER_LEVELS]);
export type CenterLevel = Static<typeof CenterLevel>;

/** A center code: lowercase letters, digits and -, starting with a letter, 2 to 32 characters (nanchang, gz-2). */
export const CenterCode = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'center code: lowercase letters, digits and -, starting with a letter, 2 to 32 characters',
});

/** A NATS client URL: nats://host:port or tls://host:port. */
export const NatsUrl = Type.String({
  minLength: 1,
  maxLength: 300,
  description: 'nats://host:port or tls://host:port',
});
const NatsUrls = Type.Array(NatsUrl, { maxItems: 16 });

/** A JetStream domain: letters, digits, - and _. */
export const JsDomain = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'JetStream domain: letters, digits, - and _',
});

const CHECK = Type.Boolean({
  default: true,
  description:
    'connect to every URL and read the NATS INFO line first, refusing when none answers; false registers a center that does not run yet',
});

export const Center = Type.Object({
  code: Type.String(),
  name: Type.String(),
  regionCode: Nullable(Type.String({ description: 'null: not placed yet (the center central made from its config)' })),
  level: CenterLevel,
  natsUrls: Type.Array(Type.String()),
  jsDomain: Nullable(Type.String()),
  monitorUrl: Nullable(
    Type.String({ description: "nats-server's monitoring endpoint (http://host:port); null: none" }),
  ),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type Center = Static<typeof Center>;

/** nats-server's HTTP monitoring endpoint (its -m / http_port): http(s)://host:port, no path. */
export const MonitorUrl = Type.String({
  minLength: 1,
  maxLength: 300,
  description: "nats-server's monitoring endpoint, http://host:port (central polls /varz and /jsz); null: none",
});

/** POST /centers. */
export const CreateCenterBody = Type.Object(
  {
    code: CenterCode,
    name: Name,
    regionCode: Code,
    level: CenterLevel,
    natsUrls: NatsUrls,
    jsDomain: Type.Optional(Nullable(JsDomain)),
    monitorUrl: Type.Optional(Nullable(MonitorUrl)),
    check: Type.Optional(CHECK),
  },
  { additionalProperties: false },
);
export type CreateCenterBody = Static<typeof CreateCenterBody>;

/** PATCH /centers/:code: the fields given change; the others stay. */
export const UpdateCenterBody = Type.Object(
  {
    name: Type.Optional(Name),
    regionCode: Type.Optional(Code),
    level: Type.Optional(CenterLevel),
    natsUrls: Type.Optional(NatsUrls),
    jsDomain: Type.Optional(Nullable(JsDomain)),
    monitorUrl: Type.Optional(Nullable(MonitorUrl)),
    check: Type.Optional(CHECK),
  },
  { additionalProperties: false },
);
export type UpdateCenterBody = Static<typeof UpdateCenterBody>;

/** GET /centers. */
export const CenterQuery = Type.Object(
  { region: Type.Optional(Code), level: Type.Optional(CenterLevel) },
  { additionalProperties: false },
);

/** `{ code }` of a center in the path. */
export const CenterParams = Type.Object({ code: CenterCode });

export const Link = Type.Object({
  id: Type.String(),
  a: Type.String({ description: 'center code of one end' }),
  b: Type.String({ description: 'center code of the other end' }),
  capacityBps: Type.Integer({ description: 'configured capacity, bytes per second' }),
  urlsAToB: Nullable(
    Type.Array(Type.String(), { description: "what the relay at a dials to reach b; null: b's natsUrls" }),
  ),
  urlsBToA: Nullable(
    Type.Array(Type.String(), { description: "what the relay at b dials to reach a; null: a's natsUrls" }),
  ),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type Link = Static<typeof Link>;

const Capacity = Type.Integer({ minimum: 1, description: 'bytes per second, above 0' });
const LinkUrls = Nullable(NatsUrls);

/** POST /links: a link between two centers (the order of the ends does not matter: a–b is b–a). */
export const CreateLinkBody = Type.Object(
  {
    a: CenterCode,
    b: CenterCode,
    capacityBps: Capacity,
    urlsAToB: Type.Optional(LinkUrls),
    urlsBToA: Type.Optional(LinkUrls),
    check: Type.Optional(CHECK),
  },
  { additionalProperties: false },
);
export type CreateLinkBody = Static<typeof CreateLinkBody>;

/** PATCH /links/:id: capacity and the URLs each end dials (null: back to the other center's natsUrls). */
export const UpdateLinkBody = Type.Object(
  {
    capacityBps: Type.Optional(Capacity),
    urlsAToB: Type.Optional(LinkUrls),
    urlsBToA: Type.Optional(LinkUrls),
    check: Type.Optional(CHECK),
  },
  { additionalProperties: false },
);
export type UpdateLinkBody = Static<typeof UpdateLinkBody>;

/** GET /links. */
export const LinkQuery = Type.Object({ center: Type.Optional(CenterCode) }, { additionalProperties: false });

/** `{ id }` of a link in the path. */
export const LinkParams = Type.Object({ id: Id });

/** PUT /nodes/:id/center: the node's new home center; it learns the center's URLs with its next poll. */
export const MoveNodeBody = Type.Object({ center: CenterCode }, { additionalProperties: false });
export type MoveNodeBody = Static<typeof MoveNodeBody>;

/** GET /centers/:code/health: the latest sample of the center's nats-server monitoring endpoint. */
export const CenterHealth = Type.Object({
  centerCode: Type.String(),
  monitorUrl: Nullable(Type.String({ description: 'null: the center has no monitoring URL (nothing sampled)' })),
  sampledAt: Nullable(Type.Integer({ description: 'ms since epoch; null: not sampled yet' })),
  ok: Type.Boolean({ description: '/varz and /jsz answered at the last sample' }),
  error: Type.String({ description: "why not ('' when ok)" }),
  serverVersion: Type.String(),
  serverName: Type.String(),
  jetStream: Type.Boolean({ description: 'JetStream enabled on the server' }),
  figures: Nullable(
    Type.Object({
      connections: Type.Number(),
      memBytes: Type.Number(),
      cpuPercent: Type.Number(),
      slowConsumers: Type.Number(),
      jsStorageBytes: Type.Number(),
      jsMemoryBytes: Type.Number(),
      jsReservedStorageBytes: Type.Number(),
      jsMaxStorageBytes: Type.Number(),
      jsStreams: Type.Number(),
      jsConsumers: Type.Number(),
      jsMessages: Type.Number(),
      jsPending: Type.Number({ description: 'messages not yet delivered, summed over every consumer' }),
      jsApiErrors: Type.Number(),
    }),
  ),
});
export type CenterHealth = Static<typeof CenterHealth>;
