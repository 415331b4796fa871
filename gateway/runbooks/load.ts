import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { formatPath, zodIssues, type ConfigIssue } from '../config/load.ts';
import type { BuildingConfig } from '../config/schema.ts';
import { signalCatalogue } from '../signals/sources.ts';
import { isSignalState, SIGNAL_STATES } from '../signals/states.ts';
import { runbookSchema, type Runbook } from './schema.ts';

// Reads config/runbooks/*.yaml, validates each file with the runbook schema, then
// checks it against the building: its duty roles, signals and states must exist.
// Every problem names the file and the path in it, as `bohub config check` prints it.

export interface LoadedRunbooks {
  runbooks: Map<string, Runbook>;
  issues: ConfigIssue[];
}

export function loadRunbooks(dir: string, building: BuildingConfig): LoadedRunbooks {
  const runbooks = new Map<string, Runbook>();
  const issues: ConfigIssue[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return { runbooks, issues: [{ path: 'runbooks.dir', message: `cannot read the runbook folder ${dir}` }] };
  }
  for (const f of files) {
    const at = `runbooks/${f}`;
    const doc = parseDocument(readFileSync(join(dir, f), 'utf8'));
    if (doc.errors.length) {
      issues.push(...doc.errors.map((e) => ({ path: `${at}: (yaml)`, message: e.message })));
      continue;
    }
    const parsed = runbookSchema.safeParse(doc.toJS());
    if (!parsed.success) {
      for (const i of zodIssues(parsed.error)) issues.push({ path: `${at}: ${i.path}`, message: i.message });
      continue;
    }
    const rb = parsed.data;
    if (runbooks.has(rb.id)) issues.push({ path: `${at}: id`, message: `runbook "${rb.id}" is defined twice` });
    runbooks.set(rb.id, rb);
    for (const i of checkAgainstBuilding(rb, building)) issues.push({ path: `${at}: ${formatPath(i.path)}`, message: i.message });
  }
  return { runbooks, issues };
}

/** Duty roles, signals, states and holidays a runbook names must exist in the building. */
function checkAgainstBuilding(rb: Runbook, b: BuildingConfig): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const roles = new Set(b.duty.roles.map((r) => r.id));
  const knownRoles = [...roles].join(', ') || 'none; add them under duty.roles';
  const role = (path: Array<string | number>, r: string) => {
    if (!roles.has(r)) out.push({ path, message: `unknown role "${r}" (known: ${knownRoles})` });
  };
  const t = rb.trigger;
  const kind = t.type === 'signal' ? t.kind : undefined;
  const state = (path: Array<string | number>, s: string) => {
    if (kind && !isSignalState(kind, s)) out.push({ path, message: `"${s}" is not a ${kind} state (${SIGNAL_STATES[kind].join(', ')})` });
  };
  if (t.type === 'signal') {
    const catalogue = signalCatalogue(b);
    t.signals?.forEach((id, i) => {
      const info = catalogue.get(id);
      if (!info) out.push({ path: ['trigger', 'signals', i], message: `unknown signal "${id}"` });
      else if (info.kind !== t.kind) out.push({ path: ['trigger', 'signals', i], message: `signal "${id}" is a ${info.kind} signal, not ${t.kind}` });
    });
    t.states.forEach((s, i) => state(['trigger', 'states', i], s));
  }
  if (t.type === 'holiday') {
    const names = new Set(b.calendar.holidays.map((h) => h.name));
    t.names.forEach((n, i) => {
      if (!names.has(n)) out.push({ path: ['trigger', 'names', i], message: `no holiday named "${n}" in calendar.holidays` });
    });
  }
  rb.steps.forEach((s, i) => {
    role(['steps', i, 'role'], s.role);
    s.notify.forEach((r, j) => role(['steps', i, 'notify', j], r));
    s.escalate?.to.forEach((r, j) => role(['steps', i, 'escalate', 'to', j], r));
    s.when?.states?.forEach((st, j) => state(['steps', i, 'when', 'states', j], st));
    if (s.complete.by === 'signal') s.complete.states.forEach((st, j) => state(['steps', i, 'complete', 'states', j], st));
    if (s.when?.states && !kind) out.push({ path: ['steps', i, 'when', 'states'], message: 'only a signal-triggered runbook has states to follow' });
  });
  return out;
}

/** The duty section on its own: roster entries must name known roles. */
export function checkDuty(b: BuildingConfig): ConfigIssue[] {
  const roles = new Set<string>();
  const issues: ConfigIssue[] = [];
  b.duty.roles.forEach((r, i) => {
    if (roles.has(r.id)) issues.push({ path: `duty.roles[${i}].id`, message: `duplicate duty role "${r.id}"` });
    roles.add(r.id);
  });
  b.duty.roster.forEach((e, i) => {
    if (!roles.has(e.role)) issues.push({ path: `duty.roster[${i}].role`, message: `unknown duty role "${e.role}"` });
  });
  return issues;
}
