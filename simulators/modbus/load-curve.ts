// The shape of a day in an office tower, as a fraction of a unit's peak load, by
// local hour. Electricity: HVAC and lighting come on before office hours (the
// demo calendar's 08:30-12:00 and 13:00-17:30), dip at lunch, tail off in the
// evening, and a base load (servers, fridges, emergency lighting) stays all night.
// Water: arrivals in the morning, a lunchtime peak at the pantries, almost nothing
// at night. Days off (weekends, holidays) keep the base load and a little overtime.

export interface SiteCalendar {
  /** IANA time zone of the site, e.g. Asia/Shanghai. */
  timeZone: string;
  /** ISO weekdays worked, Monday = 1. */
  workingDays: readonly number[];
  /** YYYY-MM-DD dates that are holidays. */
  holidays: readonly string[];
  /** YYYY-MM-DD weekend dates worked instead of a holiday (调休). */
  extraWorkingDays: readonly string[];
}

// prettier-ignore
const ELECTRICITY = {
  //         00    01    02    03    04    05    06    07    08    09    10    11    12    13    14    15    16    17    18    19    20    21    22    23
  workday: [0.12, 0.12, 0.12, 0.12, 0.12, 0.13, 0.18, 0.35, 0.75, 0.95, 1.00, 1.00, 0.80, 0.90, 1.00, 0.98, 0.92, 0.70, 0.45, 0.32, 0.25, 0.20, 0.15, 0.13],
  dayOff:  [0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.13, 0.15, 0.18, 0.22, 0.22, 0.20, 0.22, 0.22, 0.20, 0.18, 0.15, 0.13, 0.12, 0.12, 0.12, 0.12, 0.12],
};

// prettier-ignore
const WATER = {
  workday: [0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.25, 0.70, 0.50, 0.45, 0.60, 1.00, 0.80, 0.45, 0.45, 0.40, 0.35, 0.20, 0.10, 0.05, 0.03, 0.02, 0.01],
  dayOff:  [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.03, 0.05, 0.06, 0.08, 0.08, 0.10, 0.08, 0.06, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01],
};

/** The fraction of peak load at instant `at` (epoch ms), read in the site's local time. */
export function loadShape(kind: 'electricity' | 'water', at: number, calendar: SiteCalendar): number {
  const local = localTime(at, calendar.timeZone);
  const curves = kind === 'water' ? WATER : ELECTRICITY;
  return (isWorkingDay(local, calendar) ? curves.workday : curves.dayOff)[local.hour]!;
}

export interface LocalTime {
  /** YYYY-MM-DD in the site's zone. */
  date: string;
  /** ISO weekday, Monday = 1. */
  weekday: number;
  hour: number;
}

export function isWorkingDay(local: LocalTime, calendar: SiteCalendar): boolean {
  if (calendar.extraWorkingDays.includes(local.date)) return true;
  if (calendar.holidays.includes(local.date)) return false;
  return calendar.workingDays.includes(local.weekday);
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Local time per (zone, UTC hour): the model asks for the same hours again and again. */
const cache = new Map<string, LocalTime>();

/** The local date, weekday and hour of `at` in `timeZone` (DST-correct, via Intl). */
export function localTime(at: number, timeZone: string): LocalTime {
  const key = `${timeZone}@${Math.floor(at / 3_600_000)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const local = { date: `${parts.year}-${parts.month}-${parts.day}`, weekday: WEEKDAYS[parts.weekday!]!, hour: Number(parts.hour) };
  if (cache.size > 200_000) cache.clear(); // years of simulated hours; never grows without bound
  cache.set(key, local);
  return local;
}
