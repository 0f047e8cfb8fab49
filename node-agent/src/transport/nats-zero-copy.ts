// Large publishes (file chunks of megabytes, record batches of hundreds of KiB) leave without a copy. The
// NATS client queues each command's pieces (the PUB line, headers, the payload, CRLF) and, on flush,
// concatenates everything queued into one new buffer for a single socket write: a 4 MiB chunk costs a
// 4 MiB allocation and copy, and at file speed those short-lived allocations kept ~100 MB of the
// provider agent's malloc heap resident (measured with /proc/<pid>/smaps in the bench's file phase).
// This shim writes pieces of at least LARGE_PIECE_BYTES as they are, in order, and packs only the runs of
// small pieces between them. The socket references a payload until it is written, which is before the
// broker can ack it; callers already keep a body untouched until its publish settles (publisher.ts).
// It reads only what the client sets (`outbound.buffers`, `transport.send`); when the internals do not
// look as expected it installs nothing and the client copies as before
// (test/node-agent/nats-zero-copy.test.ts checks that it is installed with the locked client version).
import { DataBuffer, ProtocolHandler } from '@nats-io/nats-core/internal';

/** Pieces at least this large are written as they are, bytes (smaller ones are packed together). */
export const LARGE_PIECE_BYTES = 64 * 1024;

interface HandlerState {
  infoReceived?: boolean;
  connected?: boolean;
  outbound?: { buffers?: Uint8Array[]; reset?: () => void; size?: () => number };
  transport?: { send?: (frame: Uint8Array) => void };
}

let installed = false;

/** Sends what is queued: runs of small pieces packed into one write, large pieces written as they are. */
function sendPieces(send: (frame: Uint8Array) => void, pieces: readonly Uint8Array[]): void {
  let run: Uint8Array[] = [];
  for (const p of pieces) {
    if (p.length < LARGE_PIECE_BYTES) {
      run.push(p);
      continue;
    }
    if (run.length > 0) send(run.length === 1 ? run[0]! : DataBuffer.concat(...run));
    run = [];
    send(p);
  }
  if (run.length > 0) send(run.length === 1 ? run[0]! : DataBuffer.concat(...run));
}

/** Installs the zero-copy flush once per process; returns whether it is in effect. */
export function writeLargePiecesDirectly(): boolean {
  if (installed) return true;
  const proto = ProtocolHandler.prototype as unknown as { flushPending?: (this: HandlerState) => void };
  const flush = proto.flushPending;
  if (typeof flush !== 'function' || typeof DataBuffer.concat !== 'function') return false;
  proto.flushPending = function (this: HandlerState): void {
    const out = this.outbound;
    const send = this.transport?.send;
    const pieces = out?.buffers;
    if (!this.infoReceived || !this.connected || !out || !pieces || typeof send !== 'function' || !out.reset) {
      flush.call(this);
      return;
    }
    if (!pieces.some((p) => p.length >= LARGE_PIECE_BYTES)) {
      flush.call(this);
      return;
    }
    const queued = pieces.slice();
    out.reset();
    sendPieces(send.bind(this.transport), queued);
  };
  installed = true;
  return true;
}
