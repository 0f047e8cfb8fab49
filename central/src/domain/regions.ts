// Region hierarchy rules (province → city → county), pure.
import type { RegionLevel } from '../api/registry.js';

export type { RegionLevel };

const PARENT_LEVEL: Record<RegionLevel, RegionLevel | null> = { province: null, city: 'province', county: 'city' };

/** Returns a problem with the proposed region's place in the hierarchy, or undefined when it fits. */
export function checkRegionParent(
  level: RegionLevel,
  parent: { level: RegionLevel } | undefined,
  parentCode: string | null,
): string | undefined {
  const want = PARENT_LEVEL[level];
  if (want === null) return parentCode ? 'a province has no parent region' : undefined;
  if (!parentCode) return `a ${level} needs a parent ${want}`;
  if (!parent) return `parent region ${JSON.stringify(parentCode)} not found`;
  if (parent.level !== want) return `a ${level}'s parent must be a ${want}, but ${parentCode} is a ${parent.level}`;
  return undefined;
}
