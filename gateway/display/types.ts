import type { Role } from '../config/schema.ts';
import type { Bilingual } from '../runbooks/types.ts';

// Lobby-screen content (issue 9; handbook 第七节 二、大堂液晶显示屏管理规程), shared by
// the display service, the HTTP routes, the socket.io events, the lobby page and the
// dashboard.
//
// An item's life: draft → pending (submitted) → approved → live (in its window) →
// expired (its end passed; archived) | withdrawn. A rejected item goes back to draft.
// Editing an approved item sends it back to pending. NOTHING UNAPPROVED EVER REACHES
// A SCREEN (第七节 二: everything shown is approved by the management office first).

export const ITEM_STATES = ['draft', 'pending', 'approved', 'expired', 'withdrawn'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

export interface ItemEvent {
  at: number;
  by: string;
  /** 'created', 'edited', 'submitted', 'approved', 'rejected', 'withdrawn', 'expired'. */
  action: string;
  note?: string;
}

export interface DirectorConsent {
  /** The director who consented (管理处主任), as the approver recorded it. */
  director: string;
  /** How: "by phone 14:05", "in person". */
  note: string;
  at: number;
  recordedBy: string;
}

export interface DisplayItem {
  id: number;
  title: Bilingual;
  body: Bilingual;
  /** sha256 of an image in the records store, served at /api/display/images/:sha. */
  image?: string;
  /** Display ids from the building's `displays`. */
  screens: string[];
  /** The schedule window, ms epoch: shown from `start` until `end`. */
  start: number;
  end: number;
  /** The weekly plan it belongs to (第七节 二.1: next week's content is planned each week, changed twice a week). */
  planWeek: string;
  /** 1 or 2: the first or second change of that week. */
  planSlot: 1 | 2;
  /** 1 is the highest; planned content is 3 to 9, emergencies from runbooks use 1 and 2. */
  priority: number;
  /** Urgent temporary information (第七节 二.3): approved at once with the director's consent. */
  urgent: boolean;
  directorConsent?: DirectorConsent;
  /** The content template it was made from, if any (holiday notice, 附件4 outage notice, ...). */
  template?: string;
  state: ItemState;
  createdBy: string;
  createdAt: number;
  approvedBy?: string;
  approvedAt?: number;
  updatedAt: number;
  history: ItemEvent[];
}

/** What reception enters: the item's own fields, with the image as its bytes (the schedule in ms). */
export interface ItemInput extends Pick<DisplayItem, 'title' | 'body' | 'screens' | 'start' | 'end' | 'planWeek' | 'planSlot' | 'priority'> {
  /** A new image as base64 (PNG or JPEG), or null to remove it. */
  image?: { mime: 'image/png' | 'image/jpeg'; base64: string } | null;
  urgent?: boolean;
}

/** One thing a screen shows now. */
export interface ScreenEntry {
  kind: 'item' | 'emergency';
  /** `item:<id>` or `incident:<id>/<step>`. */
  id: string;
  title: Bilingual;
  body: Bilingual;
  priority: number;
  image?: string;
  since: number;
  until?: number;
}

/** Exactly what one screen shows now: GET /api/display/:screenId/now, and the 'display.now' push. */
export interface ScreenNow {
  screen: string;
  location: Bilingual;
  tower: string;
  at: number;
  timeZone: string;
  /** 'emergency' while a runbook overrides the screen: then only emergency entries are shown. */
  mode: 'normal' | 'emergency';
  entries: ScreenEntry[];
  /** The weather signals as the fire-control room relays them (第九节 二, 三); 'none' when nothing is hoisted. */
  weather: { typhoon: string; rainstorm: string };
  /** When what the screen shows changes by itself next (an item starts or ends). */
  nextChangeAt?: number;
  /** Seconds each entry stays up before the screen turns to the next (config display.rotateSeconds). */
  rotateSeconds: number;
}

/** A handbook template reception fills in: the holiday notice, the 附件4 outage notice, the pest-control notice. */
export interface ContentTemplate {
  id: string;
  name: Bilingual;
  handbook: string;
  fields: Array<{ id: string; label: Bilingual; required: boolean }>;
  title: Bilingual;
  body: Bilingual;
  priority: number;
}

/** A runbook's lobby message (an emergency override): approving it approves every use of it. */
export interface EmergencyTemplate {
  /** `<runbook id>/<step id>`. */
  id: string;
  runbook: string;
  step: string;
  text: Bilingual;
  priority: number;
  approved: boolean;
  approvedBy?: string;
  approvedAt?: number;
}

export interface DisplayService {
  /** `week` (YYYY-Www): the weekly plan (第七节 二.1: next week's content is planned each week, changed twice a week). */
  list(filter?: { state?: ItemState; screen?: string; week?: string }): DisplayItem[];
  get(id: number): DisplayItem | undefined;
  create(input: ItemInput, by: DisplayActor, options?: { template?: string; submit?: boolean }): DisplayItem;
  /** Fills a content template's fields into a new draft. */
  createFromTemplate(templateId: string, values: Record<string, string>, schedule: Omit<ItemInput, 'title' | 'body'>, by: DisplayActor): DisplayItem;
  edit(id: number, input: ItemInput, by: DisplayActor): DisplayItem;
  submit(id: number, by: DisplayActor): DisplayItem;
  approve(id: number, by: DisplayActor, options?: { note?: string; directorConsent?: { director: string; note: string } }): DisplayItem;
  reject(id: number, by: DisplayActor, reason: string): DisplayItem;
  withdraw(id: number, by: DisplayActor, reason: string): DisplayItem;
  image(sha: string): { mime: string; bytes: Buffer } | undefined;
  templates(): ContentTemplate[];
  emergencyTemplates(): EmergencyTemplate[];
  approveTemplate(id: string, by: DisplayActor, note: string): EmergencyTemplate;
  now(screenId: string): ScreenNow;
}

export interface DisplayActor {
  username: string;
  role: Role;
}

export type DisplayErrorCode = 'BOHUB_DISPLAY_NOT_FOUND' | 'BOHUB_DISPLAY_STATE' | 'BOHUB_FORBIDDEN' | 'BOHUB_BAD_REQUEST';

export class DisplayError extends Error {
  constructor(
    readonly code: DisplayErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'DisplayError';
  }
}
