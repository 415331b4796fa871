import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { zodIssues, type ConfigIssue } from '../config/load.ts';
import { bilingual, id } from '../config/primitives.ts';
import type { Runbook } from '../runbooks/schema.ts';
import type { Bilingual, IncidentService, LobbyMessage } from '../runbooks/types.ts';
import { DisplayError, type ContentTemplate, type ScreenEntry } from './types.ts';

// The two kinds of template behind lobby-screen content:
//  - content templates (config/display-templates/*.yaml): the handbook's notices that
//    reception fills in: 节假日通知, the 附件4 outage notice, 消杀告示 (第七节 二.2);
//  - emergency templates: every runbook step with a `lobby:` effect. They are approved
//    in advance, and the approval holds for the exact text approved (issue 9).

/** `{{field}}` placeholders; field ids follow the config's id rule. */
const PLACEHOLDER = /\{\{([^}]+)\}\}/g;

export const contentTemplateSchema = z
  .strictObject({
    id,
    name: bilingual,
    /** Where the handbook asks for it, e.g. "第七节 二.2; 附件4". */
    handbook: z.string().min(1),
    fields: z.array(z.strictObject({ id, label: bilingual, required: z.boolean().default(true) })).default([]),
    title: bilingual,
    body: bilingual,
    /** The item's default priority: planned content is 3 to 9 (1 and 2 are for emergencies). */
    priority: z.number().int().min(3).max(9).default(5),
  })
  .superRefine((t, ctx) => {
    const ids = new Set<string>();
    t.fields.forEach((f, i) => {
      if (ids.has(f.id)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'id'], message: `field "${f.id}" is defined twice` });
      ids.add(f.id);
    });
    for (const part of ['title', 'body'] as const)
      for (const lang of ['zh', 'en'] as const)
        for (const ref of placeholders(t[part][lang]))
          if (!ids.has(ref)) ctx.addIssue({ code: 'custom', path: [part, lang], message: `{{${ref}}} names no field (fields: ${[...ids].join(', ') || 'none'})` });
  });

// The zod schema is the source of truth; this keeps it in step with the shared type.
const _sameShape: (t: z.infer<typeof contentTemplateSchema>) => ContentTemplate = (t) => t;
void _sameShape;

/** Reads every content template in `dir`; problems name the file and the path in it, as `bohub config check` prints them. */
export function loadContentTemplates(dir: string): { templates: Map<string, ContentTemplate>; issues: ConfigIssue[] } {
  const templates = new Map<string, ContentTemplate>();
  const issues: ConfigIssue[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return { templates, issues: [{ path: 'display.templatesDir', message: `cannot read the display template folder ${dir}` }] };
  }
  for (const f of files) {
    const at = `display-templates/${f}`;
    const doc = parseDocument(readFileSync(join(dir, f), 'utf8'));
    if (doc.errors.length) {
      issues.push(...doc.errors.map((e) => ({ path: `${at}: (yaml)`, message: e.message })));
      continue;
    }
    const parsed = contentTemplateSchema.safeParse(doc.toJS());
    if (!parsed.success) {
      for (const i of zodIssues(parsed.error)) issues.push({ path: `${at}: ${i.path}`, message: i.message });
      continue;
    }
    if (templates.has(parsed.data.id)) issues.push({ path: `${at}: id`, message: `display template "${parsed.data.id}" is defined twice` });
    templates.set(parsed.data.id, parsed.data);
  }
  return { templates, issues };
}

/** A content template's title and body with the values filled in; a missing required field or an unknown one is a 400 naming it. */
export function fillTemplate(t: ContentTemplate, values: Record<string, string>): { title: Bilingual; body: Bilingual } {
  const known = new Set(t.fields.map((f) => f.id));
  for (const key of Object.keys(values))
    if (!known.has(key)) throw new DisplayError('BOHUB_BAD_REQUEST', `values.${key}: template "${t.id}" has no field "${key}" (fields: ${[...known].join(', ')})`, 400);
  for (const f of t.fields)
    if (f.required && !values[f.id]?.trim()) throw new DisplayError('BOHUB_BAD_REQUEST', `values.${f.id}: ${f.label.zh} (${f.label.en}) is required by template "${t.id}"`, 400);
  const fill = (text: string) => text.replace(PLACEHOLDER, (_, ref: string) => values[ref]?.trim() ?? '');
  return { title: { zh: fill(t.title.zh), en: fill(t.title.en) }, body: { zh: fill(t.body.zh), en: fill(t.body.en) } };
}

/** A runbook lobby message as a template: `<runbook>/<step>`, with the hash its approval must match. */
export interface EmergencyTemplateDef {
  id: string;
  runbook: string;
  step: string;
  text: Bilingual;
  priority: number;
  textSha256: string;
}

/** Every runbook step with a `lobby:` effect, in runbook and step order. */
export function emergencyTemplateDefs(runbooks: Iterable<Runbook>): Map<string, EmergencyTemplateDef> {
  const out = new Map<string, EmergencyTemplateDef>();
  for (const rb of runbooks)
    for (const step of rb.steps) {
      if (!step.lobby) continue;
      const id = `${rb.id}/${step.id}`;
      out.set(id, { id, runbook: rb.id, step: step.id, text: step.lobby.text, priority: step.lobby.priority, textSha256: textSha256(step.lobby.text) });
    }
  return out;
}

/** The hash an approval holds: of the exact zh and en text, so any change to either needs approving again. */
export function textSha256(text: Bilingual): string {
  return createHash('sha256').update(JSON.stringify([text.zh, text.en])).digest('hex');
}

/**
 * Whether a message's text is the template's text, with only its `{{step}}`
 * placeholders filled in (the recorded cause of a power loss, 第九节 五): a message
 * copied from an older text of the runbook does not pass as the approved one.
 */
export function matchesTemplate(text: Bilingual, template: Bilingual): boolean {
  const pattern = (t: string) => new RegExp(`^${t.split(PLACEHOLDER).map((part, i) => (i % 2 ? '[\\s\\S]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  return pattern(template.zh).test(text.zh) && pattern(template.en).test(text.en);
}

/**
 * The lobby messages of open incidents that `shown` lets through, by screen, highest
 * priority first: each titled with its incident, e.g. 火灾报警系统报警.
 */
export function emergencyEntries(incidents: IncidentService | undefined, shown: (runbook: string, m: LobbyMessage) => boolean): Map<string, ScreenEntry[]> {
  const out = new Map<string, ScreenEntry[]>();
  for (const m of incidents?.lobbyMessages() ?? []) {
    const incident = incidents!.get(m.incidentId);
    if (!incident || !shown(incident.runbook, m)) continue;
    const entry: ScreenEntry = { kind: 'emergency', id: `incident:${m.incidentId}/${m.stepKey}`, title: incident.title, body: m.text, priority: m.priority, since: m.since };
    for (const s of m.screens) out.set(s, [...(out.get(s) ?? []), entry]);
  }
  for (const list of out.values()) list.sort((a, b) => a.priority - b.priority || b.since - a.since);
  return out;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}
