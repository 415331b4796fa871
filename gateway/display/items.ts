import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { formatPath } from '../config/load.ts';
import { DisplayError, type DisplayItem, type ItemInput, type ItemState, type ScreenEntry } from './types.ts';

// The pure rules of a content item (handbook 第七节 二): what a valid item is, and
// when an approved one is on a screen. No storage, no clock: the engine passes `now`.

const text = z.string().trim().min(1);
const bilingualText = z.object({ zh: text, en: text });

/** The shape of an item as reception enters it; the rules that need the building or the time are in checkInput. */
export const itemInputSchema = z.object({
  title: bilingualText,
  body: bilingualText,
  image: z.object({ mime: z.enum(['image/png', 'image/jpeg']), base64: z.string().min(1) }).nullable().optional(),
  screens: z.array(z.string().min(1)).min(1),
  start: z.number().int(),
  end: z.number().int(),
  /** 第七节 二.1: next week's content is planned each week. */
  planWeek: z.string().regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'the plan week is YYYY-Www, e.g. 2026-W48'),
  /** 第七节 二.1: content changes twice a week. */
  planSlot: z.union([z.literal(1), z.literal(2)]),
  priority: z.number().int(),
  urgent: z.boolean().default(false),
});

export type CheckedInput = Omit<z.infer<typeof itemInputSchema>, 'image'> & { image?: StoredImage | null };

export interface StoredImage {
  sha256: string;
  mime: 'image/png' | 'image/jpeg';
  bytes: Buffer;
}

export interface CheckContext {
  screens: ReadonlySet<string>;
  now: number;
  maxImageBytes: number;
}

/** Validates an item against the shape and the rules; every problem is a 400 naming the field. */
export function checkInput(input: ItemInput, ctx: CheckContext): CheckedInput {
  const parsed = itemInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(`${formatPath(issue.path)}: ${issue.message}`);
  }
  const v = parsed.data;
  const unknown = v.screens.find((s) => !ctx.screens.has(s));
  if (unknown) throw bad(`screens: no screen "${unknown}" (screens: ${[...ctx.screens].join(', ')})`);
  if (v.start >= v.end) throw bad('end: the window must end after it starts');
  if (v.end <= ctx.now) throw bad('end: the window has already ended');
  // 1 and 2 are the runbooks' emergencies; an urgent notice (第七节 二.3) may take 2.
  if (v.priority > 9 || v.priority < (v.urgent ? 2 : 3)) throw bad(`priority: planned content is 3 to 9${v.urgent ? ', an urgent notice may use 2' : ''} (1 and 2 are for emergencies)`);
  const image = v.image ? decodeImage(v.image, ctx.maxImageBytes) : v.image;
  return { ...v, screens: [...new Set(v.screens)], image };
}

/** A base64 PNG or JPEG, checked by its magic bytes (not by what the client says it is) and its size. */
export function decodeImage(image: { mime: string; base64: string }, maxBytes: number): StoredImage {
  const b64 = image.base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('image.base64: not base64');
  const bytes = Buffer.from(b64, 'base64');
  const mime = PNG.every((b, i) => bytes[i] === b) ? 'image/png' : JPEG.every((b, i) => bytes[i] === b) ? 'image/jpeg' : undefined;
  if (!mime) throw bad('image: only PNG and JPEG images can be shown (the file is neither)');
  if (mime !== image.mime) throw bad(`image.mime: the file is ${mime}, not ${image.mime}`);
  if (bytes.length > maxBytes) throw bad(`image: ${bytes.length} bytes is more than the ${maxBytes} allowed (display.maxImageBytes)`);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), mime, bytes };
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];

/** On its screens now: approved, and start <= now < end. Nothing else ever reaches a screen. */
export function isLive(item: DisplayItem, now: number): boolean {
  return item.state === 'approved' && item.start <= now && now < item.end;
}

/** The screen's live items as entries: by priority (1 highest), then by start. */
export function liveEntries(approved: readonly DisplayItem[], screen: string, now: number): ScreenEntry[] {
  return approved
    .filter((i) => i.screens.includes(screen) && isLive(i, now))
    .sort((a, b) => a.priority - b.priority || a.start - b.start || a.id - b.id)
    .map((i) => ({
      kind: 'item',
      id: `item:${i.id}`,
      title: i.title,
      body: i.body,
      priority: i.priority,
      ...(i.image ? { image: `/api/display/images/${i.image}` } : {}),
      since: i.start,
      until: i.end,
    }));
}

/** The next start or end of an approved item after `now` (on one screen, or any). */
export function nextChange(approved: readonly DisplayItem[], now: number, screen?: string): number | undefined {
  let next = Infinity;
  for (const i of approved) {
    if (i.state !== 'approved' || (screen && !i.screens.includes(screen))) continue;
    for (const t of [i.start, i.end]) if (t > now && t < next) next = t;
  }
  return next === Infinity ? undefined : next;
}

/** The ISO week `YYYY-Www` of a time in the building's zone (the weekly plan, 第七节 二.1). */
export function planWeekOf(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toFormat("kkkk-'W'WW");
}

/** A new draft with what was entered. */
export function newItem(v: CheckedInput, createdBy: string, now: number, template?: string): DisplayItem {
  const item: DisplayItem = {
    id: 0, title: v.title, body: v.body, screens: v.screens, start: v.start, end: v.end, planWeek: v.planWeek, planSlot: v.planSlot, priority: v.priority, urgent: v.urgent,
    ...(template ? { template } : {}),
    state: 'draft', createdBy, createdAt: now, updatedAt: now,
    history: [{ at: now, by: createdBy, action: 'created', ...(template ? { note: `from template ${template}` } : {}) }],
  };
  applyInput(item, v);
  return item;
}

/** Puts what was entered on the item; an image of `undefined` keeps the one it has, `null` removes it. */
export function applyInput(item: DisplayItem, v: CheckedInput): void {
  Object.assign(item, { title: v.title, body: v.body, screens: v.screens, start: v.start, end: v.end, planWeek: v.planWeek, planSlot: v.planSlot, priority: v.priority, urgent: v.urgent });
  if (v.image === null) delete item.image;
  else if (v.image) item.image = v.image.sha256;
}

/** What the audit log keeps of an item: everything but its history, and the note of its last event. */
export function auditView(item: DisplayItem): Record<string, unknown> {
  const { history, ...rest } = item;
  const note = history.at(-1)?.note;
  return { ...rest, ...(note ? { note } : {}) };
}

export function stateError(item: DisplayItem, from: readonly ItemState[], action: string): DisplayError {
  return new DisplayError('BOHUB_DISPLAY_STATE', `item ${item.id} is ${item.state}; only a ${from.join(', ')} item can be ${action}`, 409);
}

/** A reason to reject or withdraw: kept in the item's history and the audit log. */
export function required(reason: string): string {
  if (!reason?.trim()) throw bad('reason: say why (it is kept in the item history and the audit log)');
  return reason.trim();
}

function bad(message: string): DisplayError {
  return new DisplayError('BOHUB_BAD_REQUEST', message, 400);
}
