import { z } from 'zod';

// The small value types the config language is built from.

export const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'ids use letters, digits, "-", "_" and "."');
// Strict: an extra key is almost always a YAML flow mapping cut short by an ASCII comma in the text.
export const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are HH:MM, 24-hour');
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD');
/** Money and prices are decimal strings, never binary floats (CONVENTIONS.md habit 7). */
export const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'amounts are decimal strings such as "1.0120"');
export const port = z.number().int().min(0).max(65535);
/** `scrypt$N$r$p$salt$hash` as written by `bohub user hash-password`. */
export const scryptHash = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'not a scrypt hash; make one with `bohub user hash-password`');

/** The hub's login roles (the foundation issue); `display` is a lobby screen's own login. */
export const ROLES = ['viewer', 'operator', 'supervisor', 'finance', 'admin', 'display'] as const;
