import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { site } from '../building.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { useResource } from '../components/resource.ts';
import { lang, texts, useT } from '../i18n.ts';
import { useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { fmtDateTime } from '../time.ts';
import { RULE_TEXTS, type ReadsReply, type RunException, type RunReply, type StoredRead } from './billing-types.ts';

// The run's VEE exceptions (issue 7) for finance to resolve: each with its meter,
// unit, the rule that raised it, the read's RAW value as the meter gave it and the
// EDITED value beside it (the raw value is always kept). billing.edit may correct a
// read or accept an exception, each with a reason (the audit log keeps both); the
// next run then bills the held statement.

const T = texts({
  title: ['验证异常（VEE）', 'Validation exceptions (VEE)'],
  none: ['本次结算没有异常。', 'This run has no exceptions.'],
  unit: ['单元', 'Unit'],
  meter: ['表计', 'Meter'],
  measure: ['单位', 'Unit of measure'],
  at: ['读表时间', 'Read at'],
  rule: ['规则 / 原因', 'Rule / reason'],
  raw: ['原始读数', 'Raw value'],
  edited: ['修改后读数', 'Edited value'],
  status: ['状态', 'Status'],
  actions: ['操作', 'Actions'],
  st_blocking: ['待处理（暂缓出单）', 'open (holds the statement)'],
  st_warning: ['提示', 'warning'],
  st_accepted: ['已接受', 'accepted'],
  st_edited: ['已修改读数，待重新计算', 'read edited; run again'],
  excluded: ['已剔除', 'excluded'],
  editRead: ['修改读数', 'Edit read'],
  accept: ['接受', 'Accept'],
  editTitle: ['修改 {meter} 在 {at} 的读数', 'Edit the read of {meter} at {at}'],
  acceptTitle: ['接受异常：{rule}', 'Accept the exception: {rule}'],
  value: ['正确读数（{unit}）', 'Correct reading ({unit})'],
  exclude: ['剔除此读数（不用于计费）', 'Exclude this read from billing'],
  reason: ['原因（记入审计日志）', 'Reason (kept in the audit log)'],
  rawIs: ['原始读数 {v}', 'raw value {v}'],
  save: ['保存', 'Save'],
  byWhom: ['{actor}：{reason}', '{actor}: {reason}'],
});

export function BillingExceptions({ run, onChanged }: { run: RunReply; onChanged: () => Promise<void> }) {
  const t = useT(T);
  const can = useCan();
  const l = useStore(lang);
  const tree = useStore(site);
  const [dialog, setDialog] = useState<{ kind: 'edit' | 'accept'; e: RunException; read?: StoredRead }>();
  const withRead = run.exceptions.filter((e) => e.readId !== undefined);
  const reads = useResource(() => loadReads(withRead), [run.run.id, run.exceptions.length]);
  const measureOf = (meterId: string) =>
    tree?.towers.flatMap((tw) => tw.floors.flatMap((f) => f.units.flatMap((u) => u.meters))).find((m) => m.id === meterId)?.unit ?? (meterId.endsWith('-W') ? 'm³' : 'kWh');
  const rule = (e: RunException) => RULE_TEXTS[e.code][l === 'en' ? 1 : 0];

  async function changed() {
    await Promise.all([reads.reload(), onChanged()]);
  }

  return (
    <section class="card" data-testid="exceptions">
      <h2>
        {t('title')} <span class="muted">({run.exceptions.length})</span>
      </h2>
      {run.exceptions.length === 0 && <p class="muted">{t('none')}</p>}
      {reads.error && <p class="error">{reads.error.message}</p>}
      {run.exceptions.length > 0 && (
        <div class="scroll-x">
          <table class="grid exceptions">
            <thead>
              <tr>
                <th>{t('unit')}</th>
                <th>{t('meter')}</th>
                <th>{t('measure')}</th>
                <th>{t('at')}</th>
                <th>{t('rule')}</th>
                <th class="num">{t('raw')}</th>
                <th class="num">{t('edited')}</th>
                <th>{t('status')}</th>
                {can('billing.edit') && <th>{t('actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {run.exceptions.map((e) => {
                const read = e.readId === undefined ? undefined : reads.data?.get(e.readId);
                const status = statusOf(e, read, run.run.createdAt);
                return (
                  <tr key={e.id} data-exception={e.id} data-code={e.code} data-status={status} class={`st-${status}`}>
                    <td>{e.unitId}</td>
                    <td>{e.meterId}</td>
                    <td>{measureOf(e.meterId)}</td>
                    <td>{fmtDateTime(e.at)}</td>
                    <td>
                      <span class="rule">{rule(e)}</span>
                      <div class="muted small detail">{e.detail}</div>
                    </td>
                    <td class="num raw" data-testid="raw">{read ? read.value : '—'}</td>
                    <td class="num edited" data-testid="edited">
                      {read?.edit ? (
                        <>
                          {read.edit.value ?? <em>{t('excluded')}</em>}
                          <div class="muted small">{t('byWhom', { actor: read.edit.actor, reason: read.edit.reason })}</div>
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>
                      <span class="badge">{t(`st_${status}`)}</span>
                      {e.accepted && <div class="muted small">{t('byWhom', { actor: e.accepted.actor, reason: e.accepted.reason })}</div>}
                    </td>
                    {can('billing.edit') && (
                      <td class="actions">
                        {read && (
                          <button type="button" data-testid="edit-read" onClick={() => setDialog({ kind: 'edit', e, read })}>
                            {t('editRead')}
                          </button>
                        )}
                        {e.blocking && (
                          <button type="button" data-testid="accept" onClick={() => setDialog({ kind: 'accept', e })}>
                            {t('accept')}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {dialog?.kind === 'edit' && dialog.read && (
        <EditReadDialog read={dialog.read} unit={measureOf(dialog.e.meterId)} onClose={() => setDialog(undefined)} onDone={changed} />
      )}
      {dialog?.kind === 'accept' && (
        <ActionDialog
          title={t('acceptTitle', { rule: rule(dialog.e) })}
          submitLabel={t('accept')}
          testId="accept-dialog"
          onClose={() => setDialog(undefined)}
          onSubmit={async (v) => {
            await api('/api/billing/exceptions/accept', { method: 'POST', body: { id: dialog.e.id, reason: v.reason } });
            await changed();
          }}
        >
          <p class="muted">{dialog.e.detail}</p>
          <label>
            {t('reason')}
            <textarea name="reason" required />
          </label>
        </ActionDialog>
      )}
    </section>
  );
}

function EditReadDialog({ read, unit, onClose, onDone }: { read: StoredRead; unit: string; onClose: () => void; onDone: () => Promise<void> }) {
  const t = useT(T);
  const [exclude, setExclude] = useState(false);
  return (
    <ActionDialog
      title={t('editTitle', { meter: read.meterId, at: fmtDateTime(read.readAt) })}
      submitLabel={t('save')}
      testId="edit-read-dialog"
      onClose={onClose}
      onSubmit={async (v) => {
        // A decimal string goes to the hub as typed: the register value is never a float here.
        await api(`/api/billing/reads/${read.id}/edit`, { method: 'POST', body: { value: exclude ? null : v.value, reason: v.reason } });
        await onDone();
      }}
    >
      <p class="muted">{t('rawIs', { v: read.value })}</p>
      <label>
        {t('value', { unit })}
        <input name="value" inputMode="decimal" pattern="\d+(\.\d+)?" required={!exclude} disabled={exclude} defaultValue={read.edit?.value ?? read.value} />
      </label>
      <label class="inline">
        <input type="checkbox" name="exclude" checked={exclude} onChange={(e) => setExclude(e.currentTarget.checked)} /> {t('exclude')}
      </label>
      <label>
        {t('reason')}
        <textarea name="reason" required />
      </label>
    </ActionDialog>
  );
}

type Status = 'blocking' | 'warning' | 'accepted' | 'edited';

/** An edit made after the run was computed resolves the exception once the period is run again. */
function statusOf(e: RunException, read: StoredRead | undefined, runAt: number): Status {
  if (e.accepted) return 'accepted';
  if (read?.edit && read.edit.at >= runAt) return 'edited';
  return e.blocking ? 'blocking' : 'warning';
}

/** The reads the exceptions are about, by id: one request per meter over the span of its exceptions. */
async function loadReads(exceptions: RunException[]): Promise<Map<number, StoredRead>> {
  const spans = new Map<string, { from: number; to: number }>();
  for (const e of exceptions) {
    const s = spans.get(e.meterId);
    spans.set(e.meterId, s ? { from: Math.min(s.from, e.at), to: Math.max(s.to, e.at) } : { from: e.at, to: e.at });
  }
  const replies = await Promise.all(
    [...spans].map(([meter, s]) => api<ReadsReply>('/api/billing/reads', { query: { meter, from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() } })),
  );
  return new Map(replies.flatMap((r) => r.reads.map((read) => [read.id, read] as const)));
}
