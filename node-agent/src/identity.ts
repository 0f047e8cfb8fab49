// The node identity issued by central at enrollment, kept in <dataDir>/identity.json (mode 0600, written
// to a temporary file, fsynced, then renamed: a crash never leaves half an identity). A restart reads it
// and does not enroll again. A move to another center (poll answers' data plane) rewrites it the same way.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError, AgentErrorCode } from './errors.js';

export interface NodeIdentity {
  nodeId: string;
  nodeSecret: string;
  nodeName: string;
  departmentCode: string;
  regionCode: string;
  centralAddress: string;
  enrolledAt: number;
  dataPlane: { natsUrls: string[]; subjectPrefix: string; stream: string; homeCenter: string };
}

/** Whether two data planes are the same place (URLs in order, prefix, stream, home center). */
export function sameDataPlane(a: NodeIdentity['dataPlane'], b: NodeIdentity['dataPlane']): boolean {
  return (
    JSON.stringify(a.natsUrls) === JSON.stringify(b.natsUrls) &&
    a.subjectPrefix === b.subjectPrefix &&
    a.stream === b.stream &&
    (a.homeCenter ?? '') === (b.homeCenter ?? '')
  );
}

export const identityPath = (dataDir: string): string => join(dataDir, 'identity.json');

export function loadIdentity(dataDir: string): NodeIdentity | undefined {
  const file = identityPath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const id = JSON.parse(readFileSync(file, 'utf8')) as NodeIdentity;
    if (!id.nodeId || !id.nodeSecret) throw new Error('nodeId or nodeSecret missing');
    return id;
  } catch (err) {
    throw new AgentError(
      AgentErrorCode.SPOOL_CORRUPT,
      `identity file ${file} is unreadable (${(err as Error).message}); move it away and enroll with a new token`,
      { cause: err },
    );
  }
}

export function saveIdentity(dataDir: string, id: NodeIdentity): void {
  const file = identityPath(dataDir);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(id, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // fsync the directory so the rename itself survives a power loss.
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
