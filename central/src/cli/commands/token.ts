// xchg token: one-time enrollment tokens (注册令牌). A token lets one new node of a department enroll;
// its secret is shown once, at creation.
import type { Command } from 'commander';
import type { CreateTokenBody, EnrollmentToken, IssuedToken } from '../../api/nodes.js';
import { action } from '../context.js';
import { formatAge, formatTime } from '../format.js';
import { writeNote, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

/**
 * What became of a token. Used comes first: central also accepts revoking a used token, which does not undo
 * the enrollment, so "revoked" would wrongly suggest the node lost access.
 */
function tokenState(t: EnrollmentToken, nowMs: number): 'used' | 'revoked' | 'expired' | 'unused' {
  if (t.usedAt) return 'used';
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt <= nowMs) return 'expired';
  return 'unused';
}

const columns = (dir: Directory, nowMs: number): readonly Column<EnrollmentToken>[] => [
  { header: 'id', value: (t) => t.id },
  { header: 'department', value: (t) => dir.department(t.departmentCode) },
  { header: 'node name', value: (t) => t.nodeName },
  { header: 'state', value: (t) => tokenState(t, nowMs) },
  { header: 'created', value: (t) => formatTime(t.createdAt) },
  {
    header: 'expires',
    // How long is left matters only while the token can still be used.
    value: (t) =>
      tokenState(t, nowMs) === 'unused'
        ? `${formatTime(t.expiresAt)} (${formatAge(t.expiresAt, nowMs)})`
        : formatTime(t.expiresAt),
  },
  { header: 'used by', value: (t) => t.usedByNodeId ?? '-' },
];

export const token: Noun = {
  name: 'token',
  summary: 'enrollment tokens 注册令牌',
  description:
    'Enrollment tokens (注册令牌): a one-time secret that lets one new node of a department enroll with central.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List enrollment tokens and what became of them (secrets are never shown again)')
      .action(
        action(async (ctx) => {
          const [tokens, dir] = await Promise.all([
            ctx.api.get<EnrollmentToken[]>('/tokens'),
            Directory.load(ctx, { departments: true }),
          ]);
          ctx.list(tokens, columns(dir, ctx.nowMs), 'tokens');
        }),
      );

    cmd
      .command('create')
      .description('Issue a token for a new node; prints the secret (on stdout alone, for scripts)')
      .requiredOption('--dept <code>', 'department the node belongs to')
      .requiredOption('--node <name>', 'name of the new node, e.g. gat-01')
      .addOption(defaulted('--ttl <duration>', 'validity, e.g. 24h or 7d', "7d (central's)").argParser(parseDuration))
      .action(
        action<{ dept: string; node: string; ttl?: number }>(async (ctx, o) => {
          const issued = await ctx.api.post<IssuedToken>(
            '/tokens',
            {
              departmentCode: o.dept,
              nodeName: o.node,
              ...(o.ttl !== undefined && { ttlMs: o.ttl }),
            } satisfies CreateTokenBody,
            { departmentCode: '--dept', nodeName: '--node', ttlMs: '--ttl' },
          );
          const r = issued.record;
          ctx.show(issued, () => issued.token);
          if (ctx.output === 'table')
            writeNote(
              `token ${r.id} enrolls node ${r.nodeName} of ${r.departmentCode} once, until ${formatTime(r.expiresAt)}; it is not shown again`,
            );
        }),
      );

    cmd
      .command('revoke')
      .description('Revoke an unused token')
      .argument('<id>', 'token id (from xchg token list)')
      .action(
        action(async (ctx, _o, id) => {
          await ctx.api.delete(`/tokens/${encodeURIComponent(id)}`);
          ctx.done(`revoked token ${id}`);
        }),
      );
  },
};
