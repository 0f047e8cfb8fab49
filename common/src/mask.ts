// Masking (脱敏) rules shared by the agent's pipeline and central's views of record values: keep a few
// characters at the ends, star the rest. Pure.
//   name   张三丰 → 张*丰, 张三 → 张*        (first and last character)
//   idcard 360102199001011234 → 360***********1234   (first 3, last 4)
//   phone  13812345678 → 138****5678          (first 3, last 4)
//   keep:A:B  first A and last B characters kept
//   redact  → "***"
// Masking a masked value again gives the same value (the ends kept are the same characters), so central
// may mask what a provider already masked.
export type MaskRule = 'name' | 'idcard' | 'phone' | 'redact' | `keep:${number}:${number}`;

const KEEP: Record<string, [number, number]> = { name: [1, 1], idcard: [3, 4], phone: [3, 4] };

/** The rule named by `rule`, or undefined when it is none of name, idcard, phone, redact, keep:A:B. */
export function parseMaskRule(rule: string): MaskRule | undefined {
  if (rule in KEEP || rule === 'redact') return rule as MaskRule;
  return /^keep:\d{1,3}:\d{1,3}$/.test(rule) ? (rule as MaskRule) : undefined;
}

/** `value` masked by `rule` (as text, counted in code points); null and undefined pass unchanged. */
export function mask(value: unknown, rule: MaskRule): unknown {
  if (value === null || value === undefined) return value;
  // '' hides nothing and stays '' (masking must not turn an empty value into a non-empty one).
  if (value === '') return value;
  if (rule === 'redact') return '***';
  const s = String(value);
  const chars = [...s]; // code points: a CJK name is masked by characters, not UTF-16 units
  const [first, keepLast] = KEEP[rule] ?? (rule.split(':').slice(1).map(Number) as [number, number]);
  const last = rule === 'name' && chars.length === 2 ? 0 : keepLast;
  if (chars.length <= first + last) {
    // Too short to keep both ends: keep at most the first character.
    return chars.length <= 1 ? '*' : chars[0] + '*'.repeat(chars.length - 1);
  }
  return (
    chars.slice(0, first).join('') + '*'.repeat(chars.length - first - last) + (last ? chars.slice(-last).join('') : '')
  );
}
