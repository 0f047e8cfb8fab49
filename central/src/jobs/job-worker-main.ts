// The jobs' worker thread (started by job-worker.ts): opens central.db read-only, computes one task, posts the
// answer ({ ok, value } or { ok: false, message }) and exits. No writes, no logger: the main thread does both.
import { parentPort, workerData } from 'node:worker_threads';
import { WorkingCalendar } from '../domain/calendar.js';
import { computeClustering } from '../services/brain-cluster-input.js';
import { openReadOnlyDatabase } from '../store/db.js';
import { TrafficStore } from '../store/traffic.js';
import type { WorkerAnswer, WorkerInput, WorkerTask } from './job-worker.js';

function compute(input: WorkerInput): unknown {
  const db = openReadOnlyDatabase(input.dbFile);
  try {
    const task: WorkerTask = input.task;
    switch (task.kind) {
      case 'cluster':
        return computeClustering(new TrafficStore(db), new WorkingCalendar(task.calendar), task.window);
    }
  } finally {
    db.close();
  }
}

let answer: WorkerAnswer;
try {
  answer = { ok: true, value: compute(workerData as WorkerInput) };
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  answer = { ok: false, message: e.message, stack: e.stack ?? '' };
}
parentPort?.postMessage(answer);
