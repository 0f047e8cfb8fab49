// How the agent's V8 heap grows: a front-end machine runs the agent beside the department's own services,
// so the agent trades a little GC time for a heap that stays close to what is live.
import { setFlagsFromString } from 'node:v8';

/**
 * Old-generation growth after each full GC, percent (V8's own default is dynamic, between 10 % and 300 %
 * for a throughput-bound process: `MemoryController::DynamicGrowingFactor` in v8/src/heap/heap-controller.cc).
 * At 20 % the next full GC comes once the old generation is 1.2 × what survived the last one. V8 reads this
 * flag whenever it sets the next limit, so setting it at start takes effect (unlike the semi-space sizes,
 * which only a command-line flag sets: see deploy/xchg-agent.service). Measured in the bench's record phase:
 * the consumer agent's peak RSS fell from ~171 MB to ~142 MB at the same records/s.
 */
export const HEAP_GROWING_PERCENT = 20;

/**
 * Node flags the agent is started with (deploy/xchg-agent.service's ExecStart, main.ts's `#!` line, and
 * every launcher in scripts/ and test/helpers/; test/common/agent-launch.test.ts checks they agree).
 * `--max-semi-space-size=4`: V8's young generation is two semi-spaces of up to 16 MiB each by default on
 * 64-bit (32 MiB resident once the record path's allocation rate has grown it); 4 MiB each saves ~24 MB,
 * and the more frequent scavenges also free the socket's 64 KiB read buffers sooner (their dead copies
 * held the consumer's malloc heap at ~40 MB in the file phase). Measured in the quick bench on this 2-core
 * machine: records/s within the run-to-run spread of 8 and 16 MiB. Only a command-line flag sets it: V8
 * reads it when the heap is created.
 * `--expose-gc`: lets YoungCollector ask for a scavenge (below).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc'];

/** Sets the heap growth (HEAP_GROWING_PERCENT); call once, first thing in main. */
export function tuneHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Received bytes between two young-generation collections (YoungCollector), bytes (16 MiB). */
export const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;

/**
 * Returns the receive path's garbage to the allocator at a bounded rate. Every socket read hands the NATS
 * client a fresh 64 KiB buffer that is garbage once parsed, but its memory lives outside the JS heap, so
 * V8 collects it only when such external memory has grown by its soft limit (64 MB:
 * v8::internal::kExternalAllocationSoftLimit), or when the tiny JS objects fill the young generation: at
 * file speed the consumer's malloc heap held ~40 MB of dead read buffers. A scavenge after every
 * COLLECT_EVERY_BYTES received frees them (~1 ms with a 4 MiB semi-space; measured in the bench's file
 * phase: the consumer's peak RSS 141 -> 112 MB, file MB/s unchanged or better). Without `--expose-gc`
 * (AGENT_NODE_FLAGS) it does nothing.
 */
export class YoungCollector {
  private bytes = 0;
  private readonly gc = (globalThis as { gc?: (options: { type: 'minor' | 'major' }) => void }).gc;

  constructor(private readonly everyBytes = COLLECT_EVERY_BYTES) {}

  /** Whether collections can be asked for (the process runs with --expose-gc). */
  get active(): boolean {
    return typeof this.gc === 'function';
  }

  /** Counts `n` received bytes; runs a young-generation collection each time everyBytes have come in. */
  received(n: number): void {
    this.bytes += n;
    if (this.bytes < this.everyBytes || !this.gc) return;
    this.bytes = 0;
    this.gc({ type: 'minor' });
  }
}
