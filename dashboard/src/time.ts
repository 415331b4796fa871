import { DateTime } from 'luxon';
import { useEffect, useState } from 'preact/hooks';
import { lang, type Lang } from './i18n.ts';
import { Store, useStore } from './store.ts';

// Times are shown in the building's time zone (site.timezone from /api/site), not
// the browser's: a supervisor's phone on another zone must read the same clock as
// the control room (issue 8).

export const buildingZone = new Store('Asia/Shanghai');

/**
 * How far the hub's clock is ahead of this browser's (ms). Deadlines are the hub's
 * times, so countdowns run on the hub's clock: a phone whose clock is minutes off
 * still shows the right time left. Set from /api/auth/me's `now` at every resync.
 */
let hubOffset = 0;

export function setHubClock(hubNowMs: number, requestedAt: number): void {
  // The answer was made somewhere between the request and now: take the middle.
  hubOffset = Math.round(hubNowMs - (requestedAt + Date.now()) / 2);
}

/** The hub's current time (ms). */
export function hubNow(): number {
  return Date.now() + hubOffset;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(kind: 'datetime' | 'time' | 'date', zone: string, l: Lang): Intl.DateTimeFormat {
  const key = `${kind}|${zone}|${l}`;
  let f = formats.get(key);
  if (!f) {
    const date = { year: 'numeric', month: '2-digit', day: '2-digit' } as const;
    const time = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } as const;
    const options = kind === 'datetime' ? { ...date, ...time } : kind === 'date' ? date : time;
    f = new Intl.DateTimeFormat(l === 'en' ? 'en-GB' : 'zh-CN', { ...options, timeZone: zone });
    formats.set(key, f);
  }
  return f;
}

type When = number | string | Date | undefined | null;

function toDate(t: When): Date | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** "2026-11-27 10:15:02" style, in the building's zone; '—' for no time. */
export function fmtDateTime(t: When): string {
  const d = toDate(t);
  return d ? format('datetime', buildingZone.get(), lang.get()).format(d) : '—';
}

export function fmtTime(t: When): string {
  const d = toDate(t);
  return d ? format('time', buildingZone.get(), lang.get()).format(d) : '—';
}

export function fmtDate(t: When): string {
  const d = toDate(t);
  return d ? format('date', buildingZone.get(), lang.get()).format(d) : '—';
}

/** A countdown or an age: "-02:15" when overdue, "1:02:03" past an hour. */
export function fmtDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${sign}${h}:${pad(m)}:${pad(s)}` : `${sign}${pad(m)}:${pad(s)}`;
}

/** The hub's current time, re-rendering every `everyMs` (countdowns, the clock); also re-renders on a zone or language change. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(hubNow());
  useStore(buildingZone);
  useStore(lang);
  useEffect(() => {
    const timer = setInterval(() => setNow(hubNow()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "2026-11-27T10:00" for an `<input type="datetime-local">`: the building's wall-clock time. */
export function toLocalInput(ms: number, zone: string = buildingZone.get()): string {
  return DateTime.fromMillis(ms, { zone }).toFormat("yyyy-LL-dd'T'HH:mm");
}

/** A datetime-local value read as the building's wall-clock time (ms), or undefined when it is not a time. */
export function parseLocalInput(value: string, zone: string = buildingZone.get()): number | undefined {
  if (!value) return undefined;
  const d = DateTime.fromISO(value, { zone });
  return d.isValid ? d.toMillis() : undefined;
}
