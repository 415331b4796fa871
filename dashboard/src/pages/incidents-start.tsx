import { useState } from 'preact/hooks';
import type { Incident, RunbookSummary } from '../../../gateway/runbooks/types.ts';
import { applyIncident } from '../alarms-state.ts';
import { api } from '../api.ts';
import { site } from '../building.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { useResource } from '../components/resource.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { me } from '../session.ts';
import { useStore } from '../store.ts';

// Starting a procedure by hand (POST /api/incidents): a tenant phones about a theft, a
// broken pipe, a bomb threat (第九节 四–八), or the weather is relayed by phone. The
// person picks the runbook and fills the facts it asks for; the hub checks that the
// role may start it and that the required facts are there.

const T = texts({
  title: ['手动启动处置流程', 'Start a procedure by hand'],
  submit: ['启动', 'Start'],
  runbook: ['处置流程', 'Procedure'],
  choose: ['请选择…', 'Choose…'],
  tower: ['楼座', 'Tower'],
  wholeSite: ['（全场）', '(whole site)'],
  level: ['级别', 'Level'],
  note: ['备注', 'Note'],
  required: ['（必填）', ' (required)'],
  loading: ['加载中…', 'Loading…'],
  none: ['此账号没有可手动启动的流程。', 'This account may start no procedure by hand.'],
});

interface Props {
  onClose: () => void;
  onStarted: (incident: Incident) => void;
}

export function StartIncidentDialog({ onClose, onStarted }: Props) {
  const t = useT(T);
  const p = usePick();
  const tree = useStore(site);
  const session = useStore(me);
  const runbooks = useResource(() => api<{ runbooks: RunbookSummary[] }>('/api/runbooks'), []);
  const [chosen, setChosen] = useState('');

  const role = session?.user.role;
  // Holiday notices start from the calendar; the rest may be started by hand by their startRoles (admin: all).
  const startable = (runbooks.data?.runbooks ?? [])
    .filter((r) => r.trigger !== 'holiday' && role !== undefined && (role === 'admin' || r.startRoles.includes(role)))
    .sort((a, b) => (a.trigger === 'manual' ? 0 : 1) - (b.trigger === 'manual' ? 0 : 1) || a.priority - b.priority);
  const rb = startable.find((r) => r.id === chosen);

  async function submit(values: Record<string, string>) {
    if (!rb) throw new Error('no runbook chosen');
    const fields: Record<string, string> = {};
    for (const f of rb.fields) if (values[`field-${f.id}`]?.trim()) fields[f.id] = values[`field-${f.id}`]!.trim();
    const body = {
      runbook: rb.id,
      ...(values.tower ? { tower: values.tower } : {}),
      ...(values.level ? { level: values.level } : {}),
      ...(values.note?.trim() ? { note: values.note.trim() } : {}),
      fields,
    };
    const { incident } = await api<{ incident: Incident }>('/api/incidents', { method: 'POST', body });
    applyIncident(incident);
    onStarted(incident);
  }

  return (
    <ActionDialog title={t('title')} submitLabel={t('submit')} onSubmit={submit} onClose={onClose} testId="incident-start-dialog">
      {runbooks.loading && !runbooks.data ? (
        <p class="muted">{t('loading')}</p>
      ) : startable.length === 0 ? (
        <p class="muted">{t('none')}</p>
      ) : (
        <>
          <label>
            {t('runbook')}
            <select name="runbook" required value={chosen} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)} data-testid="start-runbook">
              <option value="">{t('choose')}</option>
              {startable.map((r) => (
                <option key={r.id} value={r.id}>
                  {p(r.title)} ({r.handbook})
                </option>
              ))}
            </select>
          </label>
          {rb && (
            <>
              <label>
                {t('tower')}
                <select name="tower" data-testid="start-tower">
                  <option value="">{t('wholeSite')}</option>
                  {tree?.towers.map((tw) => (
                    <option key={tw.id} value={tw.id}>
                      {p(tw.name)}
                    </option>
                  ))}
                </select>
              </label>
              {rb.levels && rb.levels.length > 1 && (
                <label>
                  {t('level')}
                  <select name="level">
                    {rb.levels.map((l) => (
                      <option key={l} value={l}>
                        {l}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {rb.fields.map((f) => (
                <label key={f.id}>
                  {p(f.label)}
                  {f.required && t('required')}
                  <input name={`field-${f.id}`} required={f.required} maxLength={2000} data-field={f.id} />
                </label>
              ))}
              <label>
                {t('note')}
                <textarea name="note" maxLength={2000} />
              </label>
            </>
          )}
        </>
      )}
    </ActionDialog>
  );
}
