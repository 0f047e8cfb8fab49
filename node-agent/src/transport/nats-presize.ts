// Large messages (file chunks are megabytes) arrive in 64 KiB socket reads. The NATS client's parser
// collects such a message in a buffer that starts at the size of the first read and doubles as it
// fills: a 4 MiB chunk costs ~16 MiB of allocations and ~8 MiB of copies, and that much external memory
// makes V8 run a full GC every few chunks (measured: the consumer agent's main cost after hashing).
// This shim sizes the buffer once, to the size the message announced, right after the parser starts it.
// It reads only what the parser sets (`ma.size`, `msgBuf`) and calls the buffer's public grow(); when
// the client's internals do not look as expected it installs nothing and the client works as before
// (test/node-agent/nats-presize.test.ts checks that it is installed with the locked client version).
import { DenoBuffer, Parser } from '@nats-io/nats-core/internal';

interface ParserState {
  msgBuf?: DenoBuffer | undefined;
  ma?: { size?: number } | undefined;
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
    if (pending && typeof size === 'number' && pending.capacity < size) pending.grow(size - pending.length);
  };
  installed = true;
  return true;
}
