import type { Clock, Timer } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { DisplayScreenConfig, Role } from '../config/schema.ts';
import type { EventBus, SignalState } from '../events.ts';
import type { Logger } from '../log.ts';
import { degraded, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import type { IncidentService, LobbyMessage } from '../runbooks/types.ts';
import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { RecordStore } from '../storage/types.ts';
import { seedDemo } from './demo.ts';
import { applyInput, auditView, checkInput, isLive, liveEntries, newItem, nextChange, required, stateError, type CheckedInput, type StoredImage } from './items.ts';
import { DisplayRepository, type TemplateApproval } from './repository.ts';
import { emergencyEntries, emergencyTemplateDefs, fillTemplate, matchesTemplate, type EmergencyTemplateDef } from './templates.ts';
import { DisplayError, type ContentTemplate, type DisplayActor, type DisplayItem, type DisplayService, type EmergencyTemplate, type ItemInput, type ItemState, type ScreenEntry, type ScreenNow } from './types.ts';

// The lobby display (issue 9; handbook 第七节 二、大堂液晶显示屏管理规程). Reception
// enters content, the management office approves it, and only approved content in
// its window reaches a screen; it comes down exactly at its end (the handbook allows a
// day). The runbooks' lobby messages override a screen while an incident asks, but
// only those whose text was approved in advance. NOTHING UNAPPROVED EVER REACHES A
// SCREEN. Every action is stored with its audit entry in one transaction, then
// announced as 'display.changed' with the screens it touches.

export interface DisplayEngineOptions {
  config: LoadedConfig;
  records: RecordStore & { readonly db: SqliteDb };
  events: EventBus;
  clock: Clock;
  log: Logger;
  /** The runbook engine, whose open incidents put their lobby messages on the screens. */
  incidents: () => IncidentService | undefined;
}

const OWNER = 'display';
/** Node timers overflow past 2^31-1 ms; a later wake is re-armed on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const EDITABLE: readonly ItemState[] = ['draft', 'pending', 'approved'];

/** Runbook messages of this priority or higher (1 is the highest) override the screen. */
const EMERGENCY_PRIORITY = 2;

export class DisplayEngine implements Plugin, DisplayService {
  readonly name = 'display';
  private repo?: DisplayRepository;
  private readonly screens: ReadonlyMap<string, DisplayScreenConfig>;
  private readonly emergencyDefs: ReadonlyMap<string, EmergencyTemplateDef>;
  private approvals = new Map<string, TemplateApproval>();
  /** Each screen's emergency entries as last announced: an incident change is announced only to the screens it changes. */
  private readonly shown = new Map<string, string>();
  /** Emergency templates whose unapproved messages were logged (once each). */
  private readonly reported = new Set<string>();
  private weather = { typhoon: 'none', rainstorm: 'none' };
  private timer?: Timer;
  /** When the schedule was last looked at: items starting after it are announced at the next tick. */
  private lastTick = 0;
  private running = false;

  constructor(private readonly options: DisplayEngineOptions) {
    this.screens = new Map(options.config.building.displays.map((d) => [d.id, d]));
    this.emergencyDefs = emergencyTemplateDefs(options.config.runbooks.values());
  }

  async start(): Promise<void> {
    const { records, events, clock, config, log } = this.options;
    this.repo = new DisplayRepository(records.db);
    this.approvals = this.repo.approvals();
    this.running = true;
    this.lastTick = clock.now();
    events.on(OWNER, 'incident.changed', () => this.refreshEmergency('incident'));
    events.on(OWNER, 'signal.state', (s) => this.onSignal(s));
    if (config.building.site.demo) seedDemo(this, config, clock.now(), log);
    this.refreshEmergency('start');
    // Items whose end passed while the hub was down are archived now.
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.options.events.removeOwner(OWNER);
    this.timer?.cancel();
  }

  health(): ComponentHealth {
    if (!this.repo) return ok('not started');
    const now = this.options.clock.now();
    const live = this.repo.list('approved').filter((i) => isLive(i, now)).length;
    const detail = `${live} live item(s), ${this.repo.count('pending')} awaiting approval`;
    const unapproved = this.emergencyTemplates().filter((t) => !t.approved);
    if (unapproved.length) return degraded(`${detail}; ${unapproved.length} emergency template(s) not approved, so their messages cannot reach the screens: ${unapproved.map((t) => t.id).join(', ')}`);
    return ok(`${detail}; all ${this.emergencyDefs.size} emergency templates approved`);
  }

  // ---- items ----------------------------------------------------------------------

  list(filter: { state?: ItemState; screen?: string; week?: string } = {}): DisplayItem[] {
    const items = this.store().list(filter.state).filter((i) => (!filter.screen || i.screens.includes(filter.screen)) && (!filter.week || i.planWeek === filter.week));
    // A week's plan reads in its order: first change, then second, then by start.
    return filter.week ? items.sort((a, b) => a.planSlot - b.planSlot || a.start - b.start) : items;
  }

  get(id: number): DisplayItem | undefined {
    return this.store().get(id);
  }

  create(input: ItemInput, by: DisplayActor, options: { template?: string; submit?: boolean } = {}): DisplayItem {
    this.allow(by, this.editorRoles(), 'enter lobby-screen content');
    const now = this.options.clock.now();
    const v = this.check(input, now);
    const item = newItem(v, by.username, now, options.template);
    this.commit(item, undefined, by.username, 'create', v.image);
    return options.submit ? this.submit(item.id, by) : item;
  }

  createFromTemplate(templateId: string, values: Record<string, string>, schedule: Omit<ItemInput, 'title' | 'body'>, by: DisplayActor): DisplayItem {
    this.allow(by, this.editorRoles(), 'enter lobby-screen content');
    const t = this.options.config.contentTemplates.get(templateId);
    if (!t) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no content template "${templateId}" (templates: ${[...this.options.config.contentTemplates.keys()].join(', ') || 'none'})`, 404);
    return this.create({ ...schedule, priority: schedule.priority ?? t.priority, ...fillTemplate(t, values) }, by, { template: t.id });
  }

  edit(id: number, input: ItemInput, by: DisplayActor): DisplayItem {
    this.allow(by, this.editorRoles(), 'edit lobby-screen content');
    const item = this.mustGet(id);
    if (!EDITABLE.includes(item.state)) throw stateError(item, EDITABLE, 'edited');
    const now = this.options.clock.now();
    const v = this.check(input, now);
    const before = structuredClone(item);
    applyInput(item, v);
    // 第七节 二.1: what is shown is what was approved; a changed item is approved afresh.
    const wasApproved = item.state === 'approved';
    if (wasApproved) {
      item.state = 'pending';
      delete item.approvedBy;
      delete item.approvedAt;
      delete item.directorConsent;
    }
    item.history.push({ at: now, by: by.username, action: 'edited', ...(wasApproved ? { note: 'edited after approval: off the screens until approved again' } : {}) });
    return this.commit(item, before, by.username, 'edit', v.image);
  }

  submit(id: number, by: DisplayActor): DisplayItem {
    this.allow(by, this.editorRoles(), 'submit lobby-screen content');
    return this.act(id, by, 'submit', 'submitted', ['draft'], 'pending');
  }

  approve(id: number, by: DisplayActor, options: { note?: string; directorConsent?: { director: string; note: string } } = {}): DisplayItem {
    this.allow(by, this.approverRoles(), 'approve lobby-screen content');
    return this.act(id, by, 'approve', 'approved', ['pending'], 'approved', options.note, (item, now) => {
      if (item.end <= now) throw new DisplayError('BOHUB_DISPLAY_STATE', `item ${id}'s window ended; edit its schedule first`, 409);
      if (item.urgent) {
        const c = options.directorConsent;
        if (!c?.director?.trim() || !c.note?.trim())
          throw new DisplayError('BOHUB_BAD_REQUEST', "directorConsent: an urgent notice is published only with the director's consent (handbook 第七节 二.3); record who consented and how", 400);
        item.directorConsent = { director: c.director.trim(), note: c.note.trim(), at: now, recordedBy: by.username };
      }
      item.approvedBy = by.username;
      item.approvedAt = now;
    });
  }

  reject(id: number, by: DisplayActor, reason: string): DisplayItem {
    this.allow(by, this.approverRoles(), 'reject lobby-screen content');
    return this.act(id, by, 'reject', 'rejected', ['pending'], 'draft', required(reason));
  }

  withdraw(id: number, by: DisplayActor, reason: string): DisplayItem {
    this.allow(by, [...new Set([...this.editorRoles(), ...this.approverRoles()])], 'withdraw lobby-screen content');
    return this.act(id, by, 'withdraw', 'withdrawn', EDITABLE, 'withdrawn', required(reason));
  }

  image(sha: string): { mime: string; bytes: Buffer } | undefined {
    return this.store().image(sha);
  }

  templates(): ContentTemplate[] {
    return [...this.options.config.contentTemplates.values()];
  }

  // ---- emergency templates ----------------------------------------------------------

  emergencyTemplates(): EmergencyTemplate[] {
    return [...this.emergencyDefs.values()].map((d) => {
      const a = this.approvalOf(d);
      return { id: d.id, runbook: d.runbook, step: d.step, text: d.text, priority: d.priority, approved: !!a, ...(a ? { approvedBy: a.approvedBy, approvedAt: a.approvedAt } : {}) };
    });
  }

  /** Approves a runbook lobby message in advance (issue 9): the approval holds for this exact text, and approves every use of it. */
  approveTemplate(id: string, by: DisplayActor, note: string): EmergencyTemplate {
    this.allow(by, this.approverRoles(), 'approve emergency templates');
    const d = this.emergencyDefs.get(id);
    if (!d) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no emergency template "${id}" (a runbook step with a lobby message)`, 404);
    const { records, clock } = this.options;
    const approval: TemplateApproval = { templateId: id, textSha256: d.textSha256, approvedBy: by.username, approvedAt: clock.now(), note: note?.trim() ?? '' };
    records.transaction(() => {
      this.store().saveApproval(approval);
      records.appendAudit({ actor: by.username, action: 'display.approve-template', subject: `display-template:${id}`, after: { text: d.text, priority: d.priority, textSha256: d.textSha256, note: approval.note }, at: approval.approvedAt });
    });
    this.approvals.set(id, approval);
    this.refreshEmergency('display.approve-template');
    return this.emergencyTemplates().find((t) => t.id === id)!;
  }

  // ---- what a screen shows -------------------------------------------------------------

  now(screenId: string): ScreenNow {
    const screen = this.screens.get(screenId);
    if (!screen) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no screen "${screenId}"`, 404);
    const { clock, config } = this.options;
    const at = clock.now();
    const approved = this.store().list('approved');
    // An emergency (priority 1 or 2: fire, typhoon, rainstorm) takes the whole screen:
    // planned content would dilute "do not use the lifts". A runbook's lesser notices
    // (the cause of a power loss, holiday notices) take their place among the items.
    const fromRunbooks = this.emergency().get(screenId) ?? [];
    const emergency = fromRunbooks.filter((e) => e.priority <= EMERGENCY_PRIORITY);
    const next = nextChange(approved, at, screenId);
    const normal = () => [...fromRunbooks, ...liveEntries(approved, screenId, at)].sort((a, b) => a.priority - b.priority || a.since - b.since);
    return {
      screen: screenId, location: screen.location, tower: screen.tower, at, timeZone: config.building.site.timezone,
      mode: emergency.length ? 'emergency' : 'normal',
      entries: emergency.length ? emergency : normal(),
      weather: { ...this.weather },
      ...(next !== undefined ? { nextChangeAt: next } : {}),
      rotateSeconds: config.building.display.rotateSeconds,
    };
  }

  private emergency(): Map<string, ScreenEntry[]> {
    return emergencyEntries(this.options.incidents(), (runbook, m) => this.approvedMessage(runbook, m));
  }

  /** A message is shown only if its template is approved for its current text, and the message is that text. */
  private approvedMessage(runbook: string, m: LobbyMessage): boolean {
    // The step id is the step key before its round (`relay#2`).
    const id = `${runbook}/${m.stepKey.split('#')[0]}`;
    const d = this.emergencyDefs.get(id);
    if (d && this.approvalOf(d) && matchesTemplate(m.text, d.text)) return true;
    if (!this.reported.has(id)) {
      this.reported.add(id);
      this.options.log.warn({ template: id, incident: m.incidentId }, 'lobby message not shown: its emergency template is not approved for this text');
    }
    return false;
  }

  private approvalOf(d: EmergencyTemplateDef): TemplateApproval | undefined {
    const a = this.approvals.get(d.id);
    return a?.textSha256 === d.textSha256 ? a : undefined;
  }

  /** Announces the screens whose emergency entries changed (an incident opened, moved on or closed; a template was approved). */
  private refreshEmergency(reason: string): void {
    if (!this.running) return;
    const now = this.emergency();
    const changed: string[] = [];
    for (const s of this.screens.keys()) {
      const fingerprint = JSON.stringify(now.get(s) ?? []);
      if (fingerprint !== (this.shown.get(s) ?? '[]')) changed.push(s);
      this.shown.set(s, fingerprint);
    }
    this.announce(changed, reason);
  }

  /** The typhoon and rainstorm signals as the fire-control room relays them (第九节 二, 三). */
  private onSignal(s: SignalState): void {
    if (s.kind !== 'typhoon' && s.kind !== 'rainstorm') return;
    if (this.weather[s.kind] === s.state) return;
    this.weather = { ...this.weather, [s.kind]: s.state };
    this.announce([...this.screens.keys()], 'weather');
  }

  // ---- the schedule ------------------------------------------------------------------------

  /** Archives the items whose end has come and announces those that started; re-arms the timer. */
  private tick(): void {
    if (!this.running) return;
    const now = this.options.clock.now();
    const approved = this.store().list('approved');
    const started = approved.filter((i) => i.start > this.lastTick && i.start <= now && now < i.end);
    this.lastTick = now;
    this.announce([...new Set(started.flatMap((i) => i.screens))], 'display.start');
    // 第七节 二.6: expired information comes down (within a day; here, at its end).
    for (const item of approved.filter((i) => i.end <= now)) {
      const before = structuredClone(item);
      item.state = 'expired';
      item.history.push({ at: now, by: 'system', action: 'expired', note: 'its window ended: off the screens and archived' });
      this.commit(item, before, 'system', 'expire');
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer?.cancel();
    const now = this.options.clock.now();
    const next = nextChange(this.store().list('approved'), now);
    if (next === undefined) return;
    this.timer = this.options.clock.setTimeout(() => this.tick(), Math.min(next - now, MAX_TIMER_MS));
  }

  // ---- storing and announcing ----------------------------------------------------------------

  /** One state change: checked, applied, stored with its history and audit entry. */
  private act(id: number, by: DisplayActor, verb: string, action: string, from: readonly ItemState[], to: ItemState, note?: string, apply?: (item: DisplayItem, now: number) => void): DisplayItem {
    const item = this.mustGet(id);
    if (!from.includes(item.state)) throw stateError(item, from, action);
    const before = structuredClone(item);
    const now = this.options.clock.now();
    apply?.(item, now);
    item.state = to;
    item.history.push({ at: now, by: by.username, action, ...(note ? { note } : {}) });
    return this.commit(item, before, by.username, verb);
  }

  /** Stores the item (and a new image) with its audit entry in one transaction, announces the screens it was and is on, re-arms the timer. */
  private commit(item: DisplayItem, before: DisplayItem | undefined, actor: string, verb: string, image?: StoredImage | null): DisplayItem {
    const { records, clock } = this.options;
    const now = clock.now();
    const repo = this.store();
    item.updatedAt = now;
    records.transaction(() => {
      if (image) repo.putImage(image, now);
      if (before) repo.update(item);
      else repo.insert(item);
      records.appendAudit({ actor, action: `display.${verb}`, subject: `display:${item.id}`, ...(before ? { before: auditView(before) } : {}), after: auditView(item), at: now });
    });
    this.announce([...new Set([...(before?.screens ?? []), ...item.screens])], `display.${verb}`);
    this.schedule();
    return item;
  }

  private announce(screens: string[], reason: string): void {
    if (screens.length) this.options.events.emit('display.changed', { screens, reason, at: this.options.clock.now() });
  }

  // ---- small helpers ------------------------------------------------------------------------------

  private check(input: ItemInput, now: number): CheckedInput {
    return checkInput(input, { screens: new Set(this.screens.keys()), now, maxImageBytes: this.options.config.building.display.maxImageBytes });
  }

  /** 第七节 二.1 and .7: reception enters content, the management office approves it. */
  private allow(by: DisplayActor, roles: readonly Role[], what: string): void {
    if (!roles.includes(by.role)) throw new DisplayError('BOHUB_FORBIDDEN', `${by.username} (${by.role}) may not ${what}; that needs the role ${roles.join(' or ') || '(none configured)'} (handbook 第七节 二)`, 403);
  }

  private editorRoles = (): readonly Role[] => this.options.config.building.display.editorRoles;
  private approverRoles = (): readonly Role[] => this.options.config.building.display.approverRoles;

  private mustGet(id: number): DisplayItem {
    const item = this.store().get(id);
    if (!item) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no display item ${id}`, 404);
    return item;
  }

  private store(): DisplayRepository {
    if (!this.repo) throw new DisplayError('BOHUB_DISPLAY_STATE', 'the display service is not running', 503);
    return this.repo;
  }
}
