import { useState } from 'preact/hooks';
import type { Incident, IncidentStep } from '../../../gateway/runbooks/types.ts';
import { CALL_OUTCOME_TEXT, STEP_STATUS_TEXT } from '../incidents-texts.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { me, useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { fmtDateTime, fmtDuration, fmtTime, useNow } from '../time.ts';
import { CompleteStepDialog } from './incidents-complete.tsx';

// The runbook's checklist (第九节): each step with the duty post it is for, what to
// do in the reader's language, its state, its deadline with a live countdown (red
// and "overdue" past it), and who did it, when, with what note, value or calls. The
// Complete button is there only for a person who may act for that post.

const T = texts({
  complete: ['完成…', 'Complete…'],
  due: ['限时 {time}', 'Due {time}'],
  left: ['剩余 {d}', '{d} left'],
  overdue: ['超时 {d}', 'Overdue {d}'],
  doneBy: ['{by} 于 {at} 完成', 'Done by {by} at {at}'],
  signalDone: ['信号 {s} 于 {at} 完成', 'Completed by signal {s} at {at}'],
  bySignal: ['由信号自动完成', 'Completes by itself from the signal'],
  note: ['备注：{n}', 'Note: {n}'],
  value: ['{label}：{v}', '{label}: {v}'],
  belowMin: ['（少于要求的 {min}，步骤仍在进行）', ' (below the {min} required; the step stays open)'],
  valueBy: ['{v}（{by}，{at}）', '{v} ({by}, {at})'],
  call: ['{name} {phone}：{outcome}（{by}，{at}）', '{name} {phone}: {outcome} ({by}, {at})'],
  escalated: ['已升级 {n} 次', 'Escalated {n}×'],
  script: ['话术', 'Script'],
});

export function StepList({ incident, update }: { incident: Incident; update: (i: Incident) => void }) {
  const [completing, setCompleting] = useState<IncidentStep | undefined>(undefined);
  const now = useNow();
  return (
    <>
      <ol class="steps" data-testid="steps">
        {incident.steps.map((s) => (
          <StepItem key={s.key} incident={incident} step={s} now={now} onComplete={() => setCompleting(s)} />
        ))}
      </ol>
      {completing && <CompleteStepDialog incident={incident} step={completing} update={update} onClose={() => setCompleting(undefined)} />}
    </>
  );
}

/** Whether this user may complete this step: the permission, and a duty post the step is for (admin: all posts). */
function useMayComplete(): (incident: Incident, s: IncidentStep) => boolean {
  const can = useCan();
  const session = useStore(me);
  return (incident, s) =>
    can('incidents.step') && incident.state !== 'closed' && s.status === 'active' && s.completeBy !== 'signal' && (session?.dutyPosts.includes(s.role) ?? false);
}

function StepItem({ incident, step: s, now, onComplete }: { incident: Incident; step: IncidentStep; now: number; onComplete: () => void }) {
  const t = useT(T);
  const status = useT(STEP_STATUS_TEXT);
  const outcome = useT(CALL_OUTCOME_TEXT);
  const p = usePick();
  const mayComplete = useMayComplete();
  const left = s.dueAt !== undefined ? s.dueAt - now : undefined;
  const late = s.status === 'active' && left !== undefined && left < 0;
  const choice = (v: string | number | undefined) => p(s.choices?.find((c) => c.id === v)?.label) || String(v ?? '');
  return (
    <li class={`step step-${s.status} ${late ? 'late' : ''}`} data-testid="step" data-step={s.key} data-status={s.status}>
      <div class="row step-head">
        <span class={`badge step-st-${s.status}`} data-testid="step-status">
          {status(s.status)}
        </span>
        <strong class="grow">{p(s.title)}</strong>
        <span class="step-role">{p(s.roleName)}</span>
        {mayComplete(incident, s) && (
          <button type="button" class="primary" data-testid="step-complete" onClick={onComplete}>
            {t('complete')}
          </button>
        )}
      </div>
      <p class="step-text">{p(s.text)}</p>
      {s.script && (
        <p class="step-script">
          <span class="muted">{t('script')}：</span>
          {p(s.script)}
        </p>
      )}
      {s.dueAt !== undefined && s.status !== 'done' && s.status !== 'skipped' && (
        <div class="step-due">
          <span>{t('due', { time: fmtTime(s.dueAt) })}</span>{' '}
          {s.status === 'active' && left !== undefined && (
            <span class={`countdown ${late ? 'overdue' : ''}`} data-testid="countdown" data-ms={left}>
              {late ? t('overdue', { d: fmtDuration(-left) }) : t('left', { d: fmtDuration(left) })}
            </span>
          )}
          {s.escalations > 0 && <span class="overdue"> · {t('escalated', { n: s.escalations })}</span>}
        </div>
      )}
      {s.status === 'active' && s.completeBy === 'signal' && <div class="muted">{t('bySignal')}</div>}
      {s.status === 'done' && (
        <div class="step-done" data-testid="step-done">
          {s.doneBy?.startsWith('signal:') ? t('signalDone', { s: s.doneBy.slice(7), at: fmtDateTime(s.doneAt) }) : t('doneBy', { by: s.doneBy ?? '', at: fmtDateTime(s.doneAt) })}
        </div>
      )}
      {s.note && (
        <div class="step-note" data-testid="step-note">
          {t('note', { n: s.note })}
        </div>
      )}
      {s.value !== undefined && s.completeBy === 'value' && (
        <div data-testid="step-value">
          {t('value', { label: p(s.valueLabel), v: choice(s.value) })}
          {s.status === 'active' && s.valueMin !== undefined && typeof s.value === 'number' && s.value < s.valueMin && t('belowMin', { min: s.valueMin })}
          {s.values.length > 1 && (
            <ul class="muted">
              {s.values.map((v, n) => (
                <li key={n}>{t('valueBy', { v: choice(v.value), by: v.by, at: fmtDateTime(v.at) })}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {s.calls.length > 0 && (
        <ul class="step-calls" data-testid="step-calls">
          {s.calls.map((c, n) => (
            <li key={n}>
              {t('call', { name: c.name, phone: c.phone, outcome: outcome(c.outcome), by: c.by, at: fmtDateTime(c.at) })}
              {c.note ? ` — ${c.note}` : ''}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
