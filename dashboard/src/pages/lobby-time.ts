import { DateTime } from 'luxon';
import type { SiteReply } from '../building.ts';
import type { Bilingual } from '../i18n.ts';
import { parseLocalInput } from '../time.ts';

// Times the lobby editor types are the BUILDING's wall-clock times (issue 8: a
// supervisor's phone in another zone must schedule the same notice as the control
// room), so <input type="datetime-local"> values are read in the site's zone with
// luxon (a dependency; bundled into the page).

/** An ISO time for a datetime-local value read in the building's zone, or undefined when it is not a time. */
export function fromLocalInput(value: string, zone: string): string | undefined {
  const ms = parseLocalInput(value, zone);
  return ms === undefined ? undefined : DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true })!;
}

/** The ISO week YYYY-Www of a time in the zone: the weekly plan (第七节 二.1), as the hub's planWeekOf. */
export function planWeekOf(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toFormat("kkkk-'W'WW");
}

export interface ScreenInfo {
  id: string;
  location?: Bilingual;
}

/** The building's screens (GET /api/site `displays`). */
export function screensOf(tree: SiteReply | undefined): ScreenInfo[] {
  return (tree?.displays ?? []).map(({ id, location }) => ({ id, location }));
}
