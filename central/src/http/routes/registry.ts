// /api/v1/regions and /api/v1/departments.
import { Type } from 'typebox';
import { CodeParams, NoContent } from '../../api/common.js';
import { notFound } from '../../errors.js';
import { CreateDepartmentBody, CreateRegionBody, Department, DepartmentQuery, Region } from '../../api/registry.js';
import { requireRole, WRITERS, Role } from '../auth.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { regionsInScope, requireInScope, scopeOf } from './scope.js';

export function registerRegistryRoutes(app: App, deps: HttpDeps): void {
  registerRegionRoutes(app, deps);
  registerDepartmentRoutes(app, deps);
}

function registerRegionRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/regions',
    { schema: { tags: ['regions'], summary: 'List regions (行政区划)', response: { 200: Type.Array(Region) } } },
    async (req) => regionsInScope(req, deps, deps.registry.listRegions()),
  );

  app.post(
    '/regions',
    { schema: { tags: ['regions'], summary: 'Create a region', body: CreateRegionBody, response: { 201: Region } } },
    async (req, reply) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return reply.status(201).send(deps.registry.createRegion(req.body, p));
    },
  );

  app.get(
    '/regions/:code',
    { schema: { tags: ['regions'], summary: 'One region', params: CodeParams, response: { 200: Region } } },
    async (req) => {
      const region = deps.registry.getRegion(req.params.code);
      // A city admin sees its subtree and the regions above it; a sibling city is 404.
      if (!regionsInScope(req, deps, deps.registry.listRegions()).some((r) => r.code === region.code))
        throw notFound('region', region.code);
      return region;
    },
  );

  app.delete(
    '/regions/:code',
    { schema: { tags: ['regions'], summary: 'Delete a region', params: CodeParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      deps.registry.deleteRegion(req.params.code, p);
      return noContent(reply);
    },
  );
}

function registerDepartmentRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'List departments (部门), optionally under one region',
        querystring: DepartmentQuery,
        response: { 200: Type.Array(Department) },
      },
    },
    async (req) => deps.registry.listDepartments(scopeOf(req, deps, req.query.region)),
  );

  app.post(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'Create a department',
        body: CreateDepartmentBody,
        response: { 201: Department },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.registry.createDepartment(req.body, p));
    },
  );

  app.get(
    '/departments/:code',
    { schema: { tags: ['departments'], summary: 'One department', params: CodeParams, response: { 200: Department } } },
    async (req) => {
      const department = deps.registry.getDepartment(req.params.code);
      requireInScope(req, deps, department.regionCode, 'department', department.code); // another city's: 404
      return department;
    },
  );
}
