// The language in force (zh by default, en on request), kept in localStorage, and t() to look messages up.
import { en } from './en.js';
import { zh, type MessageKey, type Messages } from './zh.js';

/** A supported language; zh is the default. */
export type Lang = 'zh' | 'en';

const CATALOGS: Record<Lang, Messages> = { zh, en };
/** The localStorage key the choice is kept under. */
export const LANG_KEY = 'xchg.lang';

export function currentLang(): Lang {
  return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
}

export function setLang(lang: Lang): void {
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

/** The message of `key` in the current language with `{name}` placeholders replaced by `vars`. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = CATALOGS[currentLang()][key];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** A role's display name; an unknown role shows as it is. */
export function roleName(role: string): string {
  const key = `role_${role}`;
  return key in zh ? t(key as MessageKey) : role;
}
