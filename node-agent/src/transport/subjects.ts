// The data plane's NATS subjects, built and parsed in one place (prefix from enrollment, e.g. "xchg"):
//   <p>.n.<node>.d.<task>   data batches addressed to <node> (stream <S>, file storage, work queue)
//   <p>.n.<node>.r          receipts addressed to <node> (stream <S>)
//   <p>.f.<node>.<task>     file chunks addressed to <node> (stream <S>_FILES, memory, work queue)
//   <p>.ctl.<node>          stream-progress questions to <node> (core request/reply)
//   <p>.q.<node>            online queries (联机查询) to <node> (core request/reply)
//   <p>.rc.<node>           reconciliation (对账) questions to <node> (core request/reply)
//   <p>.t.<rest>            a unit of <p>.<rest> in transit across exchange centers (stream <S>_TRANSIT)
//   <p>.tq.<center>.<rest>  a request on <p>.<rest> to a node homed at <center>, relayed hop by hop (core)
//   <p>.quarantine.transit.<center>  units a relay at <center> could not route (stream <S>_QUARANTINE)
//   <p>.probe.<center>      probes (测试粒子) answered by the relay at <center> (core request/reply;
//                           across several centers as <p>.tq.<center>.probe.<center>, relay/probes.ts)
// Routing across centers: relay/relay.ts.

/** Subject kinds whose second token names the node a message is addressed to. */
const ADDRESSED_KINDS = new Set(['n', 'f', 'ctl', 'q', 'rc']);

export class Subjects {
  constructor(readonly prefix: string) {}
  data(dest: string, taskId: string): string {
    return `${this.prefix}.n.${dest}.d.${taskId}`;
  }
  dataFilter(node: string): string {
    return `${this.prefix}.n.${node}.d.>`;
  }
  receipts(node: string): string {
    return `${this.prefix}.n.${node}.r`;
  }
  ctl(node: string): string {
    return `${this.prefix}.ctl.${node}`;
  }
  query(node: string): string {
    return `${this.prefix}.q.${node}`;
  }
  reconcile(node: string): string {
    return `${this.prefix}.rc.${node}`;
  }
  streamSubjects(): string[] {
    return [`${this.prefix}.n.>`];
  }
  files(dest: string, taskId: string): string {
    return `${this.prefix}.f.${dest}.${taskId}`;
  }
  filesFilter(node: string): string {
    return `${this.prefix}.f.${node}.>`;
  }
  fileStreamSubjects(): string[] {
    return [`${this.prefix}.f.>`];
  }

  /** The node a data-plane subject is addressed to (undefined for any other subject). */
  destinationNode(subject: string): string | undefined {
    const parts = this.rest(subject)?.split('.');
    if (!parts || parts.length < 2 || !ADDRESSED_KINDS.has(parts[0]!)) return undefined;
    return parts[1] || undefined;
  }

  /** The transit form of a unit's subject: what its sender publishes into its home center. */
  transit(subject: string): string {
    return `${this.prefix}.t.${this.rest(subject) ?? subject}`;
  }

  /** The subject a transit subject stands for, or undefined when it is not one (or carries no unit). */
  fromTransit(subject: string): string | undefined {
    const rest = this.rest(subject);
    if (!rest?.startsWith('t.')) return undefined;
    const unit = rest.slice(2);
    // Only JetStream units travel in transit: data batches, receipts (n.) and file chunks (f.).
    if (!unit.startsWith('n.') && !unit.startsWith('f.')) return undefined;
    const original = `${this.prefix}.${unit}`;
    return this.destinationNode(original) ? original : undefined;
  }

  transitStreamSubjects(): string[] {
    return [`${this.prefix}.t.>`];
  }

  /** A request on `subject` to a node homed at `center`, as its sender publishes it into its home center. */
  requestVia(center: string, subject: string): string {
    return `${this.prefix}.tq.${center}.${this.rest(subject) ?? subject}`;
  }

  /** What every relay subscribes to at its center. */
  requestViaFilter(): string {
    return `${this.prefix}.tq.>`;
  }

  /** The destination center and the original subject of a relayed request, or undefined. */
  fromRequestVia(subject: string): { center: string; subject: string } | undefined {
    const rest = this.rest(subject);
    if (!rest?.startsWith('tq.')) return undefined;
    const dot = rest.indexOf('.', 3);
    if (dot < 0) return undefined;
    const center = rest.slice(3, dot);
    const original = `${this.prefix}.${rest.slice(dot + 1)}`;
    const addressed = this.destinationNode(original) ?? this.probeCenter(original);
    return center && addressed ? { center, subject: original } : undefined;
  }

  /** Probes the relay at `center` answers (core request/reply). */
  probe(center: string): string {
    return `${this.prefix}.probe.${center}`;
  }

  /** The center a probe subject is for, or undefined when it is not one. */
  probeCenter(subject: string): string | undefined {
    const parts = this.rest(subject)?.split('.');
    return parts?.length === 2 && parts[0] === 'probe' && parts[1] ? parts[1] : undefined;
  }

  /** Where a relay at `center` sets aside units it cannot route. */
  quarantine(center: string): string {
    return `${this.prefix}.quarantine.transit.${center}`;
  }

  quarantineStreamSubjects(): string[] {
    return [`${this.prefix}.quarantine.transit.>`];
  }

  /** The subject without "<prefix>.", or undefined when it does not start with the prefix. */
  private rest(subject: string): string | undefined {
    return subject.startsWith(`${this.prefix}.`) ? subject.slice(this.prefix.length + 1) : undefined;
  }
}
