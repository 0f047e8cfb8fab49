// xchg user: people who use the API and this CLI (用户), each with a role and scope and a bearer token
// shown once at creation. Created and revoked by the province administrator.
import { Option, type Command } from 'commander';
import { ROLES, type CreateUserBody, type IssuedUser, type Role, type User, type Whoami } from '../../api/users.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields, writeNote, type Column } from '../output.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';

const scope = (u: { regionCode?: string | null; departmentCode?: string | null }, dir: Directory): string =>
  u.departmentCode ? dir.department(u.departmentCode) : u.regionCode ? dir.region(u.regionCode) : '-';

const columns = (dir: Directory): readonly Column<User>[] => [
  { header: 'id', value: (u) => u.id },
  { header: 'name', value: (u) => u.name },
  { header: 'role', value: (u) => u.role },
  { header: 'scope', value: (u) => scope(u, dir) },
  { header: 'created', value: (u) => formatTime(u.createdAt) },
  { header: 'by', value: (u) => u.createdBy },
  { header: 'revoked', value: (u) => formatTime(u.revokedAt) },
];

export const user: Noun = {
  name: 'user',
  summary: 'users and roles 用户',
  description:
    'Users (用户) of the API and this CLI: province_admin, city_admin (one region and what is under it), operator, ' +
    'officer (数据专员, acts for one department) and auditor (reads only). Each holds a bearer token shown once.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List users (tokens are never shown again)')
      .action(
        action(async (ctx) => {
          const [users, dir] = await Promise.all([
            ctx.api.get<User[]>('/users'),
            Directory.load(ctx, { regions: true, departments: true }),
          ]);
          ctx.list(users, columns(dir), 'users');
        }),
      );

    cmd
      .command('create')
      .description('Create a user; prints its token (on stdout alone, for scripts)')
      .requiredOption('--name <name>', 'login name, e.g. li.wei')
      .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).makeOptionMandatory())
      .option('--dept <code>', 'for an officer: the department it acts for')
      .option('--region <code>', 'for a city_admin: the region it administers')
      .action(
        action<{ name: string; role: Role; dept?: string; region?: string }>(async (ctx, o) => {
          const issued = await ctx.api.post<IssuedUser>(
            '/users',
            {
              name: o.name,
              role: o.role,
              ...(o.dept !== undefined && { departmentCode: o.dept }),
              ...(o.region !== undefined && { regionCode: o.region }),
            } satisfies CreateUserBody,
            { name: '--name', role: '--role', departmentCode: '--dept', regionCode: '--region' },
          );
          ctx.show(issued, () => issued.token);
          if (ctx.output === 'table')
            writeNote(
              `user ${issued.user.name} (${issued.user.role}, id ${issued.user.id}) created; the token is not shown again`,
            );
        }),
      );

    cmd
      .command('revoke')
      .description('Revoke a user: its token stops working at once')
      .argument('<user>', 'user id or name')
      .action(
        action(async (ctx, _o, id) => {
          const u = await ctx.api.delete<User>(`/users/${encodeURIComponent(id)}`);
          ctx.show(u, () => `revoked user ${id}`);
        }),
      );

    cmd
      .command('whoami')
      .description('Show the role and scope of the token in use')
      .action(
        action(async (ctx) => {
          const [me, dir] = await Promise.all([
            ctx.api.get<Whoami>('/users/me'),
            Directory.load(ctx, { regions: true, departments: true }),
          ]);
          ctx.show(me, () =>
            renderFields([
              ['Name', me.name],
              ['Role', me.role],
              ['Scope', scope(me, dir)],
            ]),
          );
        }),
      );
  },
};
