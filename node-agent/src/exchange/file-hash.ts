// Hashing of files as both sides of a transfer read or write them: the prefix hash (a resume after a
// restart, a chunk rewritten after a crash) and the sender's running digests per chunk.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** Read size of a prefix hash. */
const READ_BYTES = 4 * 1024 * 1024;

/** Feeds the first `bytes` bytes of a file (an open handle, or a path) into `h`; stops early at its end. */
export async function hashPrefix(
  file: FileHandle | string,
  bytes: number,
  h: Hash = createHash('sha256'),
): Promise<Hash> {
  if (bytes <= 0) return h;
  if (typeof file === 'string') {
    const fh = await open(file, 'r');
    try {
      return await hashPrefix(fh, bytes, h);
    } finally {
      await fh.close();
    }
  }
  const buf = Buffer.allocUnsafe(Math.min(bytes, READ_BYTES));
  for (let pos = 0; pos < bytes;) {
    const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
    if (bytesRead === 0) break; // shorter than it was: the sender's version check refuses the transfer
    h.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h;
}

/**
 * The sender's running digests: chunk i carries sha-256 of the file through chunk i. The file is hashed
 * once, in order, as chunks are first read; the digests of chunks not yet committed are kept, so a
 * re-send needs no hashing; a re-send from further back than the kept digests re-hashes the prefix once.
 */
export class ChunkHasher {
  private readonly digests = new Map<number, Buffer>();

  private constructor(
    private hash: Hash,
    private hashedChunks: number,
  ) {}

  /** A hasher that has seen the first `chunks` chunks (`bytes` bytes) of the open file. */
  static async resume(fh: FileHandle, bytes: number, chunks: number): Promise<ChunkHasher> {
    return new ChunkHasher(await hashPrefix(fh, bytes), chunks);
  }

  /** The running digest of chunk `index` (at `offset`), whose bytes are `buf`. */
  async digest(fh: FileHandle, index: number, offset: number, buf: Buffer): Promise<Buffer> {
    if (index < this.hashedChunks && !this.digests.has(index)) {
      // Sent from further back than the digests kept: hash the prefix again, once.
      this.hash = await hashPrefix(fh, offset);
      this.hashedChunks = index;
      this.digests.clear();
    }
    if (index === this.hashedChunks) {
      this.hash.update(buf);
      this.hashedChunks++;
      this.digests.set(index, this.hash.copy().digest());
    }
    return this.digests.get(index)!;
  }

  /** Drops the digests of chunks the consumer has committed. */
  forgetBefore(chunk: number): void {
    for (const i of this.digests.keys()) if (i < chunk) this.digests.delete(i);
  }
}
