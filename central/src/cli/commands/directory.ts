// Names beside codes in tables ("公安厅 (gat)"): one fetch of regions and departments per command. Only a
// decoration: when a lookup fails (a scoped role may not list them) the bare codes are shown.
import type { Department, Region } from '../../api/registry.js';
import type { Context } from '../context.js';

export class Directory {
  private constructor(
    private readonly regions: ReadonlyMap<string, Region>,
    private readonly departments: ReadonlyMap<string, Department>,
  ) {}

  /** Loads the names a table needs; with -o json nothing is fetched (the JSON carries codes only). */
  static async load(ctx: Context, what: { regions?: boolean; departments?: boolean }): Promise<Directory> {
    if (ctx.output !== 'table') return Directory.empty();
    const api = ctx.api;
    const [r, d] = await Promise.allSettled([
      what.regions ? api.get<Region[]>('/regions') : Promise.resolve([]),
      what.departments ? api.get<Department[]>('/departments') : Promise.resolve([]),
    ]);
    return new Directory(
      new Map((r.status === 'fulfilled' ? r.value : []).map((x) => [x.code, x])),
      new Map((d.status === 'fulfilled' ? d.value : []).map((x) => [x.code, x])),
    );
  }

  static empty(): Directory {
    return new Directory(new Map(), new Map());
  }

  region(code: string | null | undefined): string {
    return label(code, this.regions.get(code ?? '')?.name);
  }

  department(code: string | null | undefined): string {
    return label(code, this.departments.get(code ?? '')?.name);
  }
}

/** "name (code)", or the code alone when the name is unknown or the same. */
function label(code: string | null | undefined, name: string | undefined): string {
  if (!code) return '-';
  return name && name !== code ? `${name} (${code})` : code;
}
