// The example configs in deploy/ list every setting that exists, at its default: compared here with the
// config schemas and DEFAULTS of central and the agent, so a new setting cannot ship undocumented.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { TSchema } from 'typebox';
import {
  CentralConfigSchema,
  DEFAULTS as CENTRAL_DEFAULTS,
  compileConfig as compileCentral,
} from '../../central/src/config.js';
import { AgentConfigSchema, DEFAULTS as AGENT_DEFAULTS } from '../../node-agent/src/config.js';

/** Dotted paths of every setting in an object schema; records (user-named maps) stop the descent. */
function settingPaths(schema: TSchema, prefix = ''): string[] {
  const s = schema as { type?: string; properties?: Record<string, TSchema>; patternProperties?: unknown };
  if (s.type !== 'object' || !s.properties || s.patternProperties) return [prefix];
  return Object.entries(s.properties).flatMap(([k, v]) => settingPaths(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * Dotted paths of every key the example shows, active or commented out (`# key: value`), from the
 * indentation (two spaces a level, as the examples are written). Comment prose is not a key: a commented
 * line counts only when it is exactly `# name:` or `# name: value` at a nesting position.
 */
function exampleKeyPaths(text: string): Set<string> {
  const paths = new Set<string>();
  const stack: { indent: number; key: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^( *)(# ?)?([A-Za-z][A-Za-z0-9]*):(?: .*)?$/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    if (indent % 2 !== 0) continue;
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    if (stack.length !== indent / 2) continue;
    const path = [...stack.map((e) => e.key), m[3]!].join('.');
    paths.add(path);
    if (!m[2]) stack.push({ indent, key: m[3]! });
  }
  return paths;
}

function valueAt(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** Leaf paths of the active (uncommented) settings of a parsed example. */
function activeLeafPaths(obj: unknown, prefix = ''): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [prefix];
  const entries = Object.entries(obj as Record<string, unknown>);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([k, v]) => activeLeafPaths(v, prefix ? `${prefix}.${k}` : k));
}

function checkExample(file: string, schema: TSchema, defaults: unknown, userMaps: string[]): void {
  const text = readFileSync(file, 'utf8');
  const shown = exampleKeyPaths(text);
  const missing = settingPaths(schema).filter((p) => !shown.has(p));
  expect(missing, `settings of the schema that ${file} does not show`).toEqual([]);
  const parsed = parseYaml(text) as Record<string, unknown>;
  const differing = activeLeafPaths(parsed)
    .filter((p) => !userMaps.some((m) => p === m || p.startsWith(`${m}.`)))
    .filter((p) => JSON.stringify(valueAt(parsed, p)) !== JSON.stringify(valueAt(defaults, p)))
    .map((p) => `${p}: example ${JSON.stringify(valueAt(parsed, p))}, default ${JSON.stringify(valueAt(defaults, p))}`);
  expect(differing, `active settings of ${file} that are not at their default`).toEqual([]);
}

describe('example configs', () => {
  it('example configs - deploy/central.example.yaml shows every central setting at its default and compiles', () => {
    checkExample('deploy/central.example.yaml', CentralConfigSchema, CENTRAL_DEFAULTS, []);
    expect(() => compileCentral({ file: 'deploy/central.example.yaml', env: {} })).not.toThrow();
  });

  it('example configs - deploy/agent.example.yaml shows every agent setting at its default', () => {
    checkExample('deploy/agent.example.yaml', AgentConfigSchema, AGENT_DEFAULTS, ['sources', 'sinks', 'labels']);
  });

  it('example configs - the key walker finds nested and commented keys, and misses a key that is absent', () => {
    const text = 'a: 1\nb:\n  c: 2\n  # d: 3\n  # prose: not at a key position? it is, by shape\n# e.f: no\n';
    const shown = exampleKeyPaths(text);
    expect([...shown].sort()).toEqual(['a', 'b', 'b.c', 'b.d', 'b.prose']);
    expect(shown.has('b.e')).toBe(false);
  });
});
