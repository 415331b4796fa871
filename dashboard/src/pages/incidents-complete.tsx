import type { CallRecord, Incident, IncidentStep } from '../../../gateway/runbooks/types.ts';
import { api } from '../api.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { CALL_OUTCOME_TEXT } from '../incidents-texts.ts';
import { texts, usePick, useT } from '../i18n.ts';

// Completing a step (POST /api/incidents/:id/steps/:key/complete {note?, value?, calls?}):
// the dialog asks for what the step records. A plain step takes an optional note; a
// value step its value (a number with the handbook's minimum, a text, or a choice); a
// calls step the calls made from the tenant directory, each with its outcome
// (第九节 六.3: whether anyone answered decides the next step). The hub checks it all.

const T = texts({
  title: ['完成步骤：{step}', 'Complete: {step}'],
  submit: ['完成', 'Complete'],
  note: ['备注', 'Note'],
  min: ['至少 {min}：填写实际数目；少于此数会被记录，步骤仍保持进行中。', 'At least {min}: enter the real count; a lower one is recorded and the step stays open.'],
  choose: ['请选择…', 'Choose…'],
  calls: ['已拨打的电话（至少一个）', 'Calls made (at least one)'],
  notCalled: ['未拨打', 'Not called'],
  name: ['姓名', 'Name'],
  phone: ['电话', 'Phone'],
  outcome: ['结果', 'Outcome'],
  other: ['其他联系人', 'Someone else'],
});

const OUTCOMES: ReadonlyArray<CallRecord['outcome']> = ['answered', 'no-answer', 'busy', 'wrong-number'];
/** Blank rows for numbers not in the directory (a tenant's mobile given on the phone). */
const EXTRA_CALL_ROWS = 2;

interface Props {
  incident: Incident;
  step: IncidentStep;
  update: (i: Incident) => void;
  onClose: () => void;
}

export function CompleteStepDialog({ incident, step, update, onClose }: Props) {
  const t = useT(T);
  const p = usePick();

  async function submit(values: Record<string, string>) {
    const body: { note?: string; value?: string | number; calls?: Array<Omit<CallRecord, 'by' | 'at'>> } = {};
    if (values.note?.trim()) body.note = values.note.trim();
    if (step.completeBy === 'value') body.value = step.valueType === 'number' ? Number(values.value) : (values.value ?? '').trim();
    if (step.completeBy === 'calls') body.calls = callsFrom(values);
    const { incident: next } = await api<{ incident: Incident }>(`/api/incidents/${incident.id}/steps/${encodeURIComponent(step.key)}/complete`, { method: 'POST', body });
    update(next);
  }

  return (
    <ActionDialog title={t('title', { step: p(step.title) })} submitLabel={t('submit')} onSubmit={submit} onClose={onClose} testId="step-complete-dialog">
      <p class="muted">{p(step.text)}</p>
      {step.completeBy === 'value' && <ValueInput step={step} />}
      {step.completeBy === 'calls' && <CallRows incident={incident} />}
      <label>
        {t('note')}
        <textarea name="note" maxLength={2000} />
      </label>
    </ActionDialog>
  );
}

function ValueInput({ step }: { step: IncidentStep }) {
  const t = useT(T);
  const p = usePick();
  return (
    <label>
      {p(step.valueLabel)}
      {step.valueType === 'choice' ? (
        <select name="value" required data-testid="step-value-input">
          <option value="">{t('choose')}</option>
          {step.choices?.map((c) => (
            <option key={c.id} value={c.id}>
              {p(c.label)}
            </option>
          ))}
        </select>
      ) : step.valueType === 'number' ? (
        <input name="value" type="number" step="any" required data-testid="step-value-input" />
      ) : (
        <input name="value" required maxLength={500} data-testid="step-value-input" />
      )}
      {step.valueMin !== undefined && <span data-testid="step-value-min">{t('min', { min: step.valueMin })}</span>}
    </label>
  );
}

function CallRows({ incident }: { incident: Incident }) {
  const t = useT(T);
  const outcome = useT(CALL_OUTCOME_TEXT);
  const select = (n: number) => (
    <select name={`call-${n}-outcome`} data-testid="call-outcome">
      <option value="">{t('notCalled')}</option>
      {OUTCOMES.map((o) => (
        <option key={o} value={o}>
          {outcome(o)}
        </option>
      ))}
    </select>
  );
  const extra = Array.from({ length: EXTRA_CALL_ROWS }, (_, k) => incident.contacts.length + k);
  return (
    <fieldset class="call-rows">
      <legend>{t('calls')}</legend>
      <table class="grid">
        <thead>
          <tr>
            <th>{t('name')}</th>
            <th>{t('phone')}</th>
            <th>{t('outcome')}</th>
          </tr>
        </thead>
        <tbody>
          {incident.contacts.map((c, n) => (
            <tr key={`c${n}`}>
              <td>
                {c.name} <span class="muted">{c.company}</span>
                <input type="hidden" name={`call-${n}-name`} value={c.name} />
              </td>
              <td>
                {c.mobile ? `${c.phone} / ${c.mobile}` : c.phone}
                <input type="hidden" name={`call-${n}-phone`} value={c.phone} />
              </td>
              <td>{select(n)}</td>
            </tr>
          ))}
          {extra.map((n) => (
            <tr key={`x${n}`}>
              <td>
                <input name={`call-${n}-name`} placeholder={t('other')} maxLength={200} />
              </td>
              <td>
                <input name={`call-${n}-phone`} type="tel" maxLength={50} />
              </td>
              <td>{select(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </fieldset>
  );
}

/** The rows given an outcome, as the hub's call records; rows left "not called" are not calls. */
function callsFrom(values: Record<string, string>): Array<Omit<CallRecord, 'by' | 'at'>> {
  const out: Array<Omit<CallRecord, 'by' | 'at'>> = [];
  for (let n = 0; values[`call-${n}-outcome`] !== undefined; n++) {
    const o = values[`call-${n}-outcome`] as CallRecord['outcome'] | '';
    if (!o) continue;
    out.push({ name: (values[`call-${n}-name`] ?? '').trim(), phone: (values[`call-${n}-phone`] ?? '').trim(), outcome: o });
  }
  return out;
}
