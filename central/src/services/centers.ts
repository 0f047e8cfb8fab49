// Exchange centers (交换中心): create, change, delete, and the home center of each node with the data plane
// it is handed (EnrollResponse and every PollAssignments answer). Invariants: the default center (the
// config's dataPlane.homeCenter) exists from central's start on (bootstrap()) and is never deleted; every
// node has a home center once bootstrap() ran; a center still home to a node or at the end of a link is
// not deleted; a change of a center's URLs, or a node's move, bumps the assignment version of the nodes
// concerned in the same transaction and wakes their long-polls after commit. Every change is audited in
// its transaction. URLs are checked for a NATS answer before the transaction (services/nats-info.ts). A
// change of URLs also reaches the relays of the linked centers (they dial them); a node moved away from the
// center it relays loses the relay role in the move's transaction.
import type { Center, CenterLevel, CreateCenterBody, UpdateCenterBody } from '../api/centers.js';
import type { CenterHealth } from '../api/centers.js';
import { monitorUrlProblem } from '../domain/center-health.js';
import { centerCodeProblem, jsDomainProblem, urlsProblem } from '../domain/centers.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { alreadyExists, ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import type { NodeRecord, Store } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';
import { requireNatsAnswer } from './nats-info.js';
import type { RelayService } from './relays.js';

/** Where and how a node reaches its home center (proto DataPlane). */
export interface DataPlane {
  natsUrls: string[];
  subjectPrefix: string;
  stream: string;
  homeCenter: string;
}

export interface CenterServiceOptions {
  /** The config's data plane: its homeCenter is the default center, made from natsUrls when absent. */
  dataPlane: { natsUrls: readonly string[]; subjectPrefix: string; stream: string; homeCenter: string };
  /** How long one URL may take to answer with its NATS INFO line, ms (central's default 2000). */
  urlCheckTimeoutMs: number;
}

/** What bootstrap() found and did, for central's start-up log. */
export interface Bootstrap {
  center: Center;
  created: boolean;
  /** Nodes without a home center that were given the default one. */
  adopted: number;
  /** The stored center's URLs differ from the config's (the stored ones are used). */
  configUrlsDiffer: boolean;
}

export class CenterService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: Pick<AssignmentService, 'wakeNode'>,
    private readonly relays: Pick<RelayService, 'touch'>,
    private readonly opts: CenterServiceOptions,
  ) {}

  /** The code of the center new nodes attach to (config dataPlane.homeCenter). */
  get defaultCenter(): string {
    return this.opts.dataPlane.homeCenter;
  }

  get urlCheckTimeoutMs(): number {
    return this.opts.urlCheckTimeoutMs;
  }

  /**
   * Makes the default center from the config when it does not exist (level province, no region yet) and
   * gives it every node without a home center (nodes enrolled before centers existed). Run once at start.
   */
  bootstrap(): Bootstrap {
    const dp = this.opts.dataPlane;
    return this.store.tx(() => {
      const now = this.clock();
      let center = this.store.centers.get(dp.homeCenter);
      const created = center === undefined;
      if (!center) {
        center = {
          code: dp.homeCenter,
          name: dp.homeCenter,
          regionCode: null,
          level: 'province',
          natsUrls: [...dp.natsUrls],
          jsDomain: null,
          monitorUrl: null,
          createdAt: now,
          updatedAt: now,
        };
        this.store.centers.insert(center);
      }
      const adopted = this.store.centers.adoptHomeless(center.code);
      if (created || adopted)
        this.audit.record(
          SYSTEM_ACTOR,
          {
            action: created ? 'center.create' : 'center.adopt',
            entityType: 'center',
            entityId: center.code,
            details: { fromConfig: true, natsUrls: center.natsUrls, level: center.level, nodesAdopted: adopted },
          },
          now,
        );
      const configUrlsDiffer = JSON.stringify(center.natsUrls) !== JSON.stringify(dp.natsUrls);
      return { center, created, adopted, configUrlsDiffer };
    });
  }

  list(filter: { regionCodes?: readonly string[]; level?: CenterLevel } = {}): Center[] {
    return this.store.centers.list(filter);
  }

  get(code: string): Center {
    const c = this.store.centers.get(code);
    if (!c) throw notFound('center', code);
    return c;
  }

  async create(input: CreateCenterBody, actor: Actor = SYSTEM_ACTOR): Promise<Center> {
    const jsDomain = input.jsDomain ?? null;
    const checkNew = (): void => {
      const bad = centerCodeProblem(input.code);
      if (bad) throw invalid('code', bad);
      if (this.store.centers.get(input.code)) throw alreadyExists('center', input.code);
      const { regionCode, natsUrls, monitorUrl } = input;
      this.checkFields({ regionCode, natsUrls, jsDomain, ...(monitorUrl && { monitorUrl }) }, input.code);
    };
    checkNew(); // before the network check: a bad request is refused at once
    if (input.check !== false) await requireNatsAnswer('natsUrls', input.natsUrls, this.opts.urlCheckTimeoutMs);
    return this.store.tx(() => {
      checkNew(); // again: the store may have changed while the URLs were checked
      const now = this.clock();
      const center: Center = {
        code: input.code,
        name: input.name,
        regionCode: input.regionCode,
        level: input.level,
        natsUrls: [...input.natsUrls],
        jsDomain,
        monitorUrl: input.monitorUrl ?? null,
        createdAt: now,
        updatedAt: now,
      };
      this.store.centers.insert(center);
      const { createdAt: _c, updatedAt: _u, code: _code, ...details } = center;
      this.audit.record(
        actor,
        {
          action: 'center.create',
          entityType: 'center',
          entityId: center.code,
          details: { ...details, checked: input.check !== false },
        },
        now,
      );
      return center;
    });
  }

  /** Changes the fields given; new URLs reach the center's nodes with their next poll. */
  async update(code: string, patch: UpdateCenterBody, actor: Actor = SYSTEM_ACTOR): Promise<Center> {
    const { check, ...fields } = patch;
    const checkChange = (): Center => {
      const cur = this.get(code);
      this.checkFields(fields, code);
      return cur;
    };
    checkChange();
    if (fields.natsUrls && check !== false)
      await requireNatsAnswer('natsUrls', fields.natsUrls, this.opts.urlCheckTimeoutMs);
    let woken: string[] = [];
    const updated = this.store.tx(() => {
      const cur = checkChange();
      const next: Center = { ...cur, ...fields, updatedAt: this.clock() };
      const urlsChanged = JSON.stringify(next.natsUrls) !== JSON.stringify(cur.natsUrls);
      this.store.centers.update(next);
      if (urlsChanged) {
        woken = this.store.centers.nodeIds(code);
        for (const id of woken) this.store.nodes.bumpAssignmentVersion(id);
        const linked = this.store.centers.listLinks({ center: code }).map((l) => (l.a === code ? l.b : l.a));
        woken.push(...this.relays.touch(linked));
      }
      const changed = Object.keys(fields).filter(
        (k) => JSON.stringify(cur[k as keyof Center]) !== JSON.stringify(next[k as keyof Center]),
      );
      const before = Object.fromEntries(changed.map((k) => [k, cur[k as keyof Center]]));
      const after = Object.fromEntries(changed.map((k) => [k, next[k as keyof Center]]));
      this.audit.record(
        actor,
        {
          action: 'center.update',
          entityType: 'center',
          entityId: code,
          details: { changed, before, after, checked: check !== false, nodesNotified: woken.length },
        },
        next.updatedAt,
      );
      return next;
    });
    for (const id of woken) this.assignments.wakeNode(id);
    return updated;
  }

  /** Deletes a center no node calls home and no link ends at; never the default center. */
  delete(code: string, actor: Actor = SYSTEM_ACTOR): void {
    this.store.tx(() => {
      const c = this.get(code);
      if (code === this.defaultCenter)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `center ${code} is central's default home center (dataPlane.homeCenter in its config): new nodes attach to it`,
          { field: 'code' },
        );
      const use = this.store.centers.use(code);
      const why = [
        ...(use.nodes ? [`it is the home center of ${use.nodes} node(s) (move them first: xchg node move)`] : []),
        ...(use.linkIds.length ? [`links ${use.linkIds.join(', ')} end at it (delete them first)`] : []),
      ];
      if (why.length)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `center ${code} is in use: ${why.join('; ')}`, {
          field: 'code',
        });
      this.store.centers.delete(code);
      this.audit.record(actor, {
        action: 'center.delete',
        entityType: 'center',
        entityId: code,
        details: { name: c.name, regionCode: c.regionCode, level: c.level, natsUrls: c.natsUrls },
      });
    });
  }

  /** Makes `centerCode` the node's home center; the node learns its URLs with its next poll. */
  moveNode(nodeId: string, centerCode: string, actor: Actor = SYSTEM_ACTOR): NodeRecord {
    let woken: string[] = [];
    const node = this.store.tx(() => {
      const n = this.store.nodes.get(nodeId);
      if (!n) throw notFound('node', nodeId);
      if (!this.store.centers.get(centerCode))
        throw invalid('center', `center ${JSON.stringify(centerCode)} not found`);
      if (n.homeCenter === centerCode) return n;
      this.store.centers.setHomeCenter(nodeId, centerCode);
      // The node, and the nodes whose tasks peer with it (their TaskSpec.peer_center changes).
      woken = [nodeId, ...this.store.routes.nodesPeeringWith(nodeId).filter((id) => id !== nodeId)];
      for (const id of woken) this.store.nodes.bumpAssignmentVersion(id);
      // A relay relays its home center: moved away, it is no longer the relay of the old one.
      const relayOf = this.store.routes.relayOfNode(nodeId)?.center ?? null;
      if (relayOf) this.store.routes.deleteRelay(relayOf);
      this.audit.record(actor, {
        action: 'node.move',
        entityType: 'node',
        entityId: nodeId,
        departmentCode: n.departmentCode,
        details: { name: n.name, from: n.homeCenter, to: centerCode, ...(relayOf && { relayCleared: relayOf }) },
      });
      return this.store.nodes.get(nodeId)!;
    });
    for (const id of woken) this.assignments.wakeNode(id);
    return node;
  }

  /** The latest monitoring sample of a center (all fields empty when it has no monitoring URL or none yet). */
  health(code: string): CenterHealth {
    const c = this.get(code);
    const s = c.monitorUrl ? this.store.centers.health(code) : undefined;
    if (s) return s;
    const none = { ok: false, serverVersion: '', serverName: '', jetStream: false, figures: null, sampledAt: null };
    return { centerCode: code, monitorUrl: c.monitorUrl, ...none, error: c.monitorUrl ? 'not sampled yet' : '' };
  }

  /** The data plane of a node: its home center's URLs (the default center's when it has none yet). */
  dataPlaneFor(node: Pick<NodeRecord, 'homeCenter'>): DataPlane {
    const dp = this.opts.dataPlane;
    const code = node.homeCenter ?? dp.homeCenter;
    const center = this.store.centers.get(code);
    return {
      natsUrls: center ? [...center.natsUrls] : [...dp.natsUrls],
      subjectPrefix: dp.subjectPrefix,
      stream: dp.stream,
      homeCenter: code,
    };
  }

  /** Region, URLs and JetStream domain of a center being made or changed (`code`), as given. */
  private checkFields(
    f: { regionCode?: string; natsUrls?: readonly string[]; jsDomain?: string | null; monitorUrl?: string | null },
    code: string,
  ): void {
    const monitor = f.monitorUrl ? monitorUrlProblem(f.monitorUrl) : undefined;
    if (monitor) throw invalid('monitorUrl', monitor);
    if (f.regionCode !== undefined && !this.store.regions.get(f.regionCode))
      throw invalid('regionCode', `region ${JSON.stringify(f.regionCode)} not found`);
    const urls = f.natsUrls && urlsProblem('natsUrls', f.natsUrls, true);
    if (urls) throw invalid(urls.field, urls.problem);
    if (f.jsDomain) {
      const bad = jsDomainProblem(f.jsDomain);
      if (bad) throw invalid('jsDomain', bad);
      const owner = this.store.centers.byJsDomain(f.jsDomain);
      if (owner && owner.code !== code)
        throw new XchgError(
          ErrorCode.ALREADY_EXISTS,
          `jsDomain: JetStream domain ${f.jsDomain} is already center ${owner.code}'s`,
          { field: 'jsDomain' },
        );
    }
  }
}
