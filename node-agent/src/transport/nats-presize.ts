// Large messages (file chunks are megabytes) arrive in 64 KiB socket reads. The NATS client's parser
// collects such a message in a buffer that starts at the size of the first read and doubles as it
// fills: a 4 MiB chunk costs ~16 MiB of allocations and ~8 MiB of copies, and that much external memory
// makes V8 run a full GC every few chunks (measured: the consumer agent's main cost after hashing).
// This shim gives the message, right after the parser starts it, one buffer of the announced size — from
// a small pool when the receiver handed one back (releaseReceiveBuffer), so a stream of chunks reuses the
// same few buffers instead of allocating and freeing megabytes per chunk (which left ~40 MB of the
// consumer's malloc heap resident in the bench's file phase).
// It reads only what the parser sets (`ma.size`, `msgBuf`) and the buffer's `_buf`/`_off`/`length`; when
// the client's internals do not look as expected it installs nothing and the client works as before
// (test/node-agent/nats-presize.test.ts checks that it is installed with the locked client version).
//
// Invariants
//  - A pooled buffer is handed to at most one message at a time: it is in the free list, or lent.
//  - Only a receiver that is done with every view of a message's data releases it; a buffer never
//    released is simply garbage-collected (releasing is an optimisation, never required).
import { DenoBuffer, Parser } from '@nats-io/nats-core/internal';

interface ParserState {
  msgBuf?: DenoBuffer | undefined;
  ma?: { size?: number } | undefined;
}

interface BufferInternals {
  _buf: Uint8Array;
  _off: number;
  length: number;
}

/** Messages at least this large get a pooled buffer, bytes (smaller ones are not worth pooling). */
const POOLED_MIN_BYTES = 256 * 1024;
/** Free buffers kept at most (each the size of a large message: 4 × 8 MiB at the broker's largest max_payload). */
const POOL_MAX = 4;

/** Buffers this shim lent out (so release() ignores anyone else's). */
const lent = new WeakSet<ArrayBuffer>();
const free: ArrayBuffer[] = [];

/** A buffer of at least `size` bytes: the smallest free one that fits, or a new one. */
function take(size: number): ArrayBuffer {
  let best = -1;
  for (let i = 0; i < free.length; i++)
    if (free[i]!.byteLength >= size && (best < 0 || free[i]!.byteLength < free[best]!.byteLength)) best = i;
  const ab = best >= 0 ? free.splice(best, 1)[0]! : new ArrayBuffer(size);
  lent.add(ab);
  return ab;
}

/**
 * Hands the buffer behind `data` (a message's data or a view of it) back to the pool once the receiver
 * is done with every view of it. Data this shim did not lend is ignored. Returns whether it was pooled.
 */
export function releaseReceiveBuffer(data: Uint8Array): boolean {
  const ab = data.buffer as ArrayBuffer;
  if (!lent.has(ab)) return false;
  lent.delete(ab);
  if (free.length >= POOL_MAX) free.shift();
  free.push(ab);
  return true;
}

let installed = false;

/** Installs the pre-sizing once per process; returns whether it is in effect. */
export function presizeLargeMessages(): boolean {
  if (installed) return true;
  const proto = Parser.prototype as unknown as { parse?: (this: ParserState, buf: Uint8Array) => void };
  const parse = proto.parse;
  if (
    typeof parse !== 'function' ||
    typeof DenoBuffer.prototype.grow !== 'function' ||
    !('capacity' in DenoBuffer.prototype)
  )
    return false;
  proto.parse = function (this: ParserState, buf: Uint8Array): void {
    parse.call(this, buf);
    const pending = this.msgBuf;
    const size = this.ma?.size;
    if (!pending || typeof size !== 'number' || pending.capacity >= size) return;
    const b = pending as unknown as BufferInternals;
    if (size < POOLED_MIN_BYTES || !(b._buf instanceof Uint8Array) || typeof b._off !== 'number') {
      pending.grow(size - pending.length);
      return;
    }
    // Move what arrived so far into a buffer of the whole message's size; the parser appends the rest.
    const held = b._buf.subarray(b._off);
    const ab = take(size);
    new Uint8Array(ab).set(held);
    b._buf = new Uint8Array(ab, 0, held.length);
    b._off = 0;
  };
  installed = true;
  return true;
}
