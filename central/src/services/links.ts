// Links between exchange centers (交换中心): which centers connect, with a configured capacity, and the URLs
// the relay at each end dials to reach the other. Invariants (also in the schema): a link joins two
// different existing centers; one link per unordered pair (a–b is b–a); capacity above 0. Every change is
// audited in its transaction. URLs given are checked for a NATS answer before the transaction. A change
// changes what the relays at the link's ends are handed (services/relays.ts): their generation and assignment
// version go up in the same transaction and their long-polls are woken after commit.
import type { CreateLinkBody, Link, UpdateLinkBody } from '../api/centers.js';
import { newLinkProblem, urlsProblem } from '../domain/centers.js';
import type { LinkSpec } from '../domain/routing.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';
import { requireNatsAnswer } from './nats-info.js';
import type { RelayService } from './relays.js';

type LinkUrls = Pick<Link, 'urlsAToB' | 'urlsBToA'>;

export class LinkService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly relays: Pick<RelayService, 'touch' | 'wake'>,
    private readonly opts: { urlCheckTimeoutMs: number },
  ) {}

  /** Links by id; `center`: those with that center at one end; `centers`: those with an end among them. */
  list(filter: { center?: string; centers?: readonly string[] } = {}): Link[] {
    const scope = filter.centers && new Set(filter.centers);
    return this.store.centers
      .listLinks(filter.center ? { center: filter.center } : {})
      .filter((l) => !scope || scope.has(l.a) || scope.has(l.b));
  }

  get(id: string): Link {
    const l = this.store.centers.getLink(id);
    if (!l) throw notFound('link', id);
    return l;
  }

  /** The links as routing sees them (domain/routing.ts). */
  specs(): LinkSpec[] {
    return this.store.centers.listLinks().map(({ id, a, b, capacityBps }) => ({ id, a, b, capacityBps }));
  }

  async create(input: CreateLinkBody, actor: Actor = SYSTEM_ACTOR): Promise<Link> {
    const urls: LinkUrls = { urlsAToB: input.urlsAToB ?? null, urlsBToA: input.urlsBToA ?? null };
    const checkNew = (): void => {
      const p = newLinkProblem(
        input.a,
        input.b,
        (code) => this.store.centers.get(code) !== undefined,
        this.store.centers.linkBetween(input.a, input.b)?.id,
      );
      if (p) throw new XchgError(ErrorCode[p.code], `${p.field}: ${p.problem}`, { field: p.field });
      checkUrls(urls);
    };
    checkNew(); // before the network check: a bad request is refused at once
    if (input.check !== false) await this.reach(urls);
    let woken: string[] = [];
    const made = this.store.tx(() => {
      checkNew(); // again: the store may have changed while the URLs were checked
      const now = this.clock();
      const link: Link = {
        id: newId('lk'),
        a: input.a,
        b: input.b,
        capacityBps: input.capacityBps,
        ...urls,
        createdAt: now,
        updatedAt: now,
      };
      this.store.centers.insertLink(link);
      woken = this.relays.touch([link.a, link.b]);
      this.audit.record(
        actor,
        {
          action: 'link.create',
          entityType: 'link',
          entityId: link.id,
          details: { a: link.a, b: link.b, capacityBps: link.capacityBps, ...urls, checked: input.check !== false },
        },
        now,
      );
      return link;
    });
    this.relays.wake(woken);
    return made;
  }

  /** Changes capacity and URLs as given (a URL list set to null: the other center's natsUrls again). */
  async update(id: string, patch: UpdateLinkBody, actor: Actor = SYSTEM_ACTOR): Promise<Link> {
    const { check, ...fields } = patch;
    const given: Partial<LinkUrls> = {
      ...(fields.urlsAToB !== undefined && { urlsAToB: fields.urlsAToB }),
      ...(fields.urlsBToA !== undefined && { urlsBToA: fields.urlsBToA }),
    };
    this.get(id);
    checkUrls(given);
    if (check !== false) await this.reach(given);
    let woken: string[] = [];
    const updated = this.store.tx(() => {
      const cur = this.get(id);
      const next: Link = { ...cur, ...fields, updatedAt: this.clock() };
      this.store.centers.updateLink(next);
      woken = this.relays.touch([cur.a, cur.b]);
      const changed = (['capacityBps', 'urlsAToB', 'urlsBToA'] as const).filter(
        (k) => JSON.stringify(cur[k]) !== JSON.stringify(next[k]),
      );
      this.audit.record(
        actor,
        {
          action: 'link.update',
          entityType: 'link',
          entityId: id,
          details: {
            a: cur.a,
            b: cur.b,
            changed,
            before: Object.fromEntries(changed.map((k) => [k, cur[k]])),
            after: Object.fromEntries(changed.map((k) => [k, next[k]])),
            checked: check !== false,
          },
        },
        next.updatedAt,
      );
      return next;
    });
    this.relays.wake(woken);
    return updated;
  }

  delete(id: string, actor: Actor = SYSTEM_ACTOR): void {
    const woken = this.store.tx(() => {
      const l = this.get(id);
      this.store.centers.deleteLink(id);
      const relayNodes = this.relays.touch([l.a, l.b]);
      this.audit.record(actor, {
        action: 'link.delete',
        entityType: 'link',
        entityId: id,
        details: { a: l.a, b: l.b, capacityBps: l.capacityBps },
      });
      return relayNodes;
    });
    this.relays.wake(woken);
  }

  /** Each URL list given must have a NATS server answering at one of its URLs. */
  private async reach(urls: Partial<LinkUrls>): Promise<void> {
    for (const field of ['urlsAToB', 'urlsBToA'] as const) {
      const list = urls[field];
      if (list) await requireNatsAnswer(field, list, this.opts.urlCheckTimeoutMs);
    }
  }
}

/** A URL list given is valid and not empty (null, not [], stands for the other center's URLs). */
function checkUrls(urls: Partial<LinkUrls>): void {
  for (const field of ['urlsAToB', 'urlsBToA'] as const) {
    const list = urls[field];
    if (!list) continue;
    const p = urlsProblem(field, list, true);
    if (p) throw invalid(p.field, p.problem);
  }
}
