// Regions (province → city → county) and departments: the frame every node and resource hangs on.
import { checkRegionParent, type RegionLevel } from '../domain/regions.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { alreadyExists, invalid, notFound, XchgError, ErrorCode } from '../errors.js';
import type { Department, Region, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export class RegistryService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
  ) {}

  createRegion(
    input: { code: string; name: string; level: RegionLevel; parentCode?: string | null },
    actor: Actor = SYSTEM_ACTOR,
  ): Region {
    const parentCode = input.parentCode ?? null;
    return this.store.tx(() => {
      if (this.store.regions.get(input.code)) throw alreadyExists('region', input.code);
      const parent = parentCode ? this.store.regions.get(parentCode) : undefined;
      const problem = checkRegionParent(input.level, parent, parentCode);
      if (problem) throw invalid('parentCode', problem);
      const region: Region = {
        code: input.code,
        name: input.name,
        level: input.level,
        parentCode,
        createdAt: this.clock(),
      };
      this.store.regions.insert(region);
      this.audit.record(
        actor,
        {
          action: 'region.create',
          entityType: 'region',
          entityId: region.code,
          details: { name: region.name, level: region.level, parentCode },
        },
        region.createdAt,
      );
      return region;
    });
  }

  deleteRegion(code: string, actor: Actor = SYSTEM_ACTOR): void {
    this.store.tx(() => {
      const r = this.store.regions.get(code);
      if (!r) throw notFound('region', code);
      if (this.store.regions.hasChildren(code))
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `region ${code} still has regions, departments or exchange centers under it`,
        );
      this.store.regions.delete(code);
      this.audit.record(actor, {
        action: 'region.delete',
        entityType: 'region',
        entityId: code,
        details: { name: r.name, level: r.level },
      });
    });
  }

  listRegions(): Region[] {
    return this.store.regions.list();
  }

  getRegion(code: string): Region {
    const r = this.store.regions.get(code);
    if (!r) throw notFound('region', code);
    return r;
  }

  createDepartment(input: { code: string; name: string; regionCode: string }, actor: Actor = SYSTEM_ACTOR): Department {
    return this.store.tx(() => {
      if (this.store.regions.getDepartment(input.code)) throw alreadyExists('department', input.code);
      if (!this.store.regions.get(input.regionCode))
        throw invalid('regionCode', `region ${JSON.stringify(input.regionCode)} not found`);
      const d: Department = { ...input, createdAt: this.clock() };
      this.store.regions.insertDepartment(d);
      this.audit.record(
        actor,
        {
          action: 'department.create',
          entityType: 'department',
          entityId: d.code,
          departmentCode: d.code,
          details: { name: d.name, regionCode: d.regionCode },
        },
        d.createdAt,
      );
      return d;
    });
  }

  listDepartments(regionCodes?: readonly string[]): Department[] {
    return this.store.regions.listDepartments(regionCodes);
  }

  getDepartment(code: string): Department {
    const d = this.store.regions.getDepartment(code);
    if (!d) throw notFound('department', code);
    return d;
  }

  /** Region codes at and under `code`. */
  scope(code: string): string[] {
    return this.store.regions.subtree(code);
  }
}
