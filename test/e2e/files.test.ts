// File transfer end to end: any file (text, binary, empty, nested), chunked through JetStream, appearing
// at the destination only when complete and checked by sha-256; interrupted transfers resume.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_HEADER, encodeEnvelopeHeader } from '../../node-agent/src/transport/envelope.js';
import { Exchange } from '../helpers/exchange.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const WINDOW = 4 * 1024 * 1024;
const CHUNK = 256 * 1024;
const FILE_STREAM = 'XCHG_DATA_FILES';

/** Bytes of file chunks the broker holds right now. */
async function fileStreamBytes(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(FILE_STREAM)).state.bytes;
  } finally {
    await nc.close();
  }
}

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

/** Writes a file of `mb` MiB of pseudo-random bytes without holding it all in memory. */
function bigFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    block[0] = i & 0xff;
    writeSync(fd, block);
  }
  closeSync(fd);
}

describe('files - chunked transfer with resume', () => {
  let x: Exchange;
  const src = tmpDir('xchg-files-src-');
  const dst = tmpDir('xchg-files-dst-');

  beforeAll(async () => {
    mkdirSync(join(src, '证照', '2026'), { recursive: true });
    writeFileSync(join(src, 'readme.txt'), '政务数据共享交换平台\n'.repeat(1000));
    writeFileSync(join(src, 'empty.dat'), '');
    writeFileSync(join(src, '证照', '2026', 'photo.jpg'), randomBytes(3 * 1024 * 1024 + 17));
    writeFileSync(join(src, '.hidden'), 'never sent');
    writeFileSync(join(src, 'upload.tmp'), 'incomplete, never sent');
    x = await Exchange.start({
      rows: 10,
      // A window of 4 MiB: a provider killed half way cannot have handed the whole file to the broker.
      // A chunk from a node outside the flow is delivered again for 3 s, then dropped.
      dataPlane: {
        fileChunkBytes: CHUNK,
        fileWindowBytes: WINDOW,
        receiptTimeoutMs: 2_000,
        ackWaitMs: 2_000,
        foreignBatchGraceMs: 3_000,
      },
      sources: { docs: { type: 'files', dir: src, stableMs: 200 } },
      sinks: { inbox: { type: 'files', dir: dst } },
    });
    await x.subscribe('sub-docs', { source: 'docs', sink: 'inbox' }, {});
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('files - text, binary, empty and nested files arrive identical; hidden and temporary files stay', async () => {
    const want = ['readme.txt', 'empty.dat', join('证照', '2026', 'photo.jpg')];
    await waitFor(() => want.every((f) => existsSync(join(dst, f))), 30_000, 100, 'files at the destination');
    for (const f of want) expect(sha(join(dst, f))).toBe(sha(join(src, f)));
    expect(existsSync(join(dst, '.hidden'))).toBe(false);
    expect(existsSync(join(dst, 'upload.tmp'))).toBe(false);
    const visible = readdirSync(dst).filter((n) => !n.startsWith('.'));
    expect(visible.sort()).toEqual(['empty.dat', 'readme.txt', '证照'].sort());
  });

  it('files - a 64 MiB transfer interrupted at 50 % resumes from the last committed chunk and its checksum matches', async () => {
    const name = 'video.mp4';
    const tmp = join(src, '.video.part');
    bigFile(tmp, 64);
    const { renameSync } = await import('node:fs');
    renameSync(tmp, join(src, name));
    const partial = join(dst, '.xchg-partial');
    const half = 32 * 1024 * 1024;
    await waitFor(
      () => readdirSync(partial).some((n) => n.endsWith('.part') && statSync(join(partial, n)).size >= half),
      60_000,
      20,
      'half of the file at the destination',
    );
    await x.provider.stop('SIGKILL');
    expect(existsSync(join(dst, name))).toBe(false); // never visible before it is complete
    await x.provider.restart();
    await waitFor(() => existsSync(join(dst, name)), 60_000, 100, 'the whole file');
    expect(sha(join(dst, name))).toBe(sha(join(src, name)));
    const resumed = /"fromChunk":(\d+)/.exec(x.provider.proc.output());
    expect(resumed, 'the restarted provider logs where it resumed').not.toBeNull();
    expect(Number(resumed![1])).toBeGreaterThan(0);
  });

  it('files - a source file truncated while being sent arrives whole in its new version, never mixed', async () => {
    const name = 'ledger.csv';
    const p = join(src, name);
    bigFile(p, 24);
    const partial = join(dst, '.xchg-partial');
    await waitFor(
      () => readdirSync(partial).some((n) => n.endsWith('.part') && statSync(join(partial, n)).size > 1024 * 1024),
      60_000,
      10,
      'transfer under way',
    ).catch(() => undefined);
    writeFileSync(p, 'id,name\n1,张三\n'); // truncated and rewritten mid-transfer
    await waitFor(() => existsSync(join(dst, name)) && sha(join(dst, name)) === sha(p), 60_000, 200, 'the new version');
    expect(readFileSync(join(dst, name), 'utf8')).toBe('id,name\n1,张三\n');
  });

  it('files - while the consumer is away the provider keeps one window in the broker and piles up no copies; the file completes when it is back', async () => {
    await x.consumer.stop('SIGKILL');
    const name = 'away.bin';
    bigFile(join(src, '.away.part'), 24);
    const { renameSync } = await import('node:fs');
    renameSync(join(src, '.away.part'), join(src, name));
    // Two stalls in a row (receipt timeout 2 s, then 4 s), each answered by nobody.
    const waiting = 'the consumer does not answer; waiting';
    await waitFor(() => occurrences(x.provider.proc.output(), waiting) >= 2, 60_000, 200, 'two unanswered stalls');
    const held = await fileStreamBytes(x.nats.url);
    expect(held, 'the first window went to the broker for the consumer to find').toBeGreaterThan(0);
    expect(held, 'at most one window (plus its envelopes), never re-sent copies').toBeLessThanOrEqual(
      WINDOW + 64 * 1024,
    );
    await x.consumer.restart();
    await waitFor(() => existsSync(join(dst, name)), 90_000, 100, 'the file after the consumer came back');
    expect(sha(join(dst, name))).toBe(sha(join(src, name)));
  });

  it('files - a broker restarted mid-transfer loses the chunks it held in memory; the transfer resumes and the checksum matches', async () => {
    const name = 'restart.bin';
    bigFile(join(src, '.restart.part'), 32);
    const { renameSync } = await import('node:fs');
    renameSync(join(src, '.restart.part'), join(src, name));
    const partial = join(dst, '.xchg-partial');
    await waitFor(
      () => readdirSync(partial).some((n) => n.endsWith('.part') && statSync(join(partial, n)).size >= 8 * 1024 * 1024),
      60_000,
      20,
      'a quarter of the file',
    );
    const before = x.provider.proc.output().length;
    await x.nats.restart();
    await waitFor(() => existsSync(join(dst, name)), 120_000, 100, 'the whole file after the broker restart');
    expect(sha(join(dst, name))).toBe(sha(join(src, name)));
    // The provider noticed the loss (failed publishes or stalled receipts) and recovered by itself.
    expect(x.provider.proc.output().slice(before)).toMatch(/chunk publish failed; retrying|file receipts stalled/);
  });

  /** Publishes one whole-file chunk straight into the consumer's file subject, as `sourceNodeId` would send it. */
  async function forgeChunk(
    o: { fileId: string; relativePath: string; sourceNodeId: string },
    body: Buffer,
    digest: Buffer,
  ): Promise<void> {
    const env = {
      batchId: `${o.fileId}-0`,
      resourceCode: '',
      subscriptionId: 'sub-docs',
      taskId: 'forged',
      sourceNodeId: o.sourceNodeId,
      destinationNodeId: x.consumerId,
      route: [],
      hopIndex: 0,
      sequence: 0,
      schemaVersion: 1,
      recordCount: 0,
      compression: 'COMPRESSION_NONE' as const,
      payloadKind: 'PAYLOAD_KIND_FILE_CHUNK' as const,
      payloadSha256: Buffer.alloc(0),
      createdAtMs: Date.now(),
      streamEpoch: o.fileId,
      agreementId: '',
      file: {
        fileId: o.fileId,
        relativePath: o.relativePath,
        fileSize: body.length,
        offset: 0,
        chunkIndex: 0,
        chunkCount: 1,
        fileSha256: digest,
        modifiedAtMs: 0,
        runningSha256: digest,
      },
    };
    const nc = await connect({ servers: x.nats.url });
    try {
      const h = headers();
      h.set(ENVELOPE_HEADER, encodeEnvelopeHeader(env));
      h.set('Nats-Msg-Id', env.batchId);
      await jetstream(nc).publish(`xchg.f.${x.consumerId}.forged`, body, { headers: h });
    } finally {
      await nc.close();
    }
  }

  it('files - a chunk damaged on the way fails its running checksum and never reaches the file', async () => {
    // A chunk as the provider would send it, with one byte changed after its digest was taken.
    const body = Buffer.from('政务数据 '.repeat(100));
    const digest = createHash('sha256').update(body).digest();
    const damaged = Buffer.from(body);
    damaged[7] = damaged[7]! ^ 0xff;
    const fileId = 'f-00000000deadbeef';
    await forgeChunk({ fileId, relativePath: 'damaged.txt', sourceNodeId: x.providerId }, damaged, digest);
    await x.consumer.proc.waitForLog(
      (l) => l['msg'] === 'file chunk failed its checksum; asked again' && l['fileId'] === fileId,
      30_000,
    );
    expect(existsSync(join(dst, 'damaged.txt'))).toBe(false);
    const part = join(dst, '.xchg-partial', `${fileId}.part`);
    expect(existsSync(part) ? statSync(part).size : 0, 'the damaged bytes were taken back').toBe(0);
  });

  it('files - a whole, well-formed chunk from a node outside the flow is never written, then dropped', async () => {
    const body = Buffer.from('伪造的证照 '.repeat(50));
    const digest = createHash('sha256').update(body).digest();
    const fileId = 'f-00000000f0e1a2b3';
    const intruder = 'nd-000000intruder';
    const refused = x.consumer.proc.waitForLog(
      (l) => l['msg'] === 'batch from a node outside the flow; redelivery later' && l['batchId'] === `${fileId}-0`,
      30_000,
    );
    const dropped = x.consumer.proc.waitForLog(
      (l) => l['msg'] === 'batch from a node outside the flow dropped' && l['batchId'] === `${fileId}-0`,
      30_000,
    );
    await forgeChunk({ fileId, relativePath: 'forged.txt', sourceNodeId: intruder }, body, digest);
    expect(String((await refused)['err'])).toContain(
      `file chunk ${fileId}-0 of subscription sub-docs comes from node ${intruder}`,
    );
    await dropped;
    expect(existsSync(join(dst, 'forged.txt'))).toBe(false);
    expect(existsSync(join(dst, '.xchg-partial', `${fileId}.part`))).toBe(false);
  });
});
