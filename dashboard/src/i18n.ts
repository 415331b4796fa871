import { Store, useStore } from './store.ts';

// Two languages: zh-CN (the demo building's default, the handbook's language) and
// en. Each page keeps its own texts next to it, as [zh, en] pairs; `{name}` in a
// text is filled from vars.

export type Lang = 'zh-CN' | 'en';

/** The hub's bilingual text (config/primitives.ts `bilingual`). */
export interface Bilingual {
  zh: string;
  en: string;
}

const SAVED = 'bohub.lang';

export const lang = new Store<Lang>(localStorage.getItem(SAVED) === 'en' ? 'en' : 'zh-CN');
lang.subscribe((l) => {
  localStorage.setItem(SAVED, l);
  document.documentElement.lang = l;
});
document.documentElement.lang = lang.get();

export type Texts = Record<string, readonly [zh: string, en: string]>;

export type Translate<T extends Texts> = (key: keyof T & string, vars?: Record<string, string | number>) => string;

/** Declares a page's texts (for type checking of keys). */
export function texts<T extends Texts>(t: T): T {
  return t;
}

function fill(text: string, vars?: Record<string, string | number>): string {
  return vars ? text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : text;
}

export function translate<T extends Texts>(t: T, l: Lang): Translate<T> {
  return (key, vars) => fill(t[key]![l === 'en' ? 1 : 0], vars);
}

/** The translate function for a page's texts, in the current language; re-renders on a switch. */
export function useT<T extends Texts>(t: T): Translate<T> {
  return translate(t, useStore(lang));
}

/** A text the hub sends in both languages (runbook titles, site names, notices). */
export function pick(text: Bilingual | undefined, l: Lang = lang.get()): string {
  if (!text) return '';
  return l === 'en' ? text.en : text.zh;
}

/** pick() that re-renders on a language switch. */
export function usePick(): (text: Bilingual | undefined) => string {
  const l = useStore(lang);
  return (text) => pick(text, l);
}
