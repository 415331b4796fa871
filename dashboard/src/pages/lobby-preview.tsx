import { useEffect, useState } from 'preact/hooks';
import type { EmergencyTemplate, ScreenNow } from '../../../gateway/display/types.ts';
import { api } from '../api.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { useResource } from '../components/resource.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { onLive } from '../live.ts';
import { useCan } from '../session.ts';
import { fmtDateTime, hubNow } from '../time.ts';
import type { ScreenInfo } from './lobby-time.ts';

// What each lobby screen shows now (GET /api/display/:screen/now, the very answer the
// kiosk page gets), reloaded on every 'display.changed' and when the next item starts
// or ends; and the runbooks' emergency messages with their advance approval
// (issue 9: an unapproved template never reaches a screen).

const T = texts({
  preview: ['各屏幕当前显示', 'What each screen shows now'],
  noScreens: ['尚无显示屏内容。', 'No screen content yet.'],
  emergency: ['紧急模式', 'EMERGENCY'],
  idle: ['（无内容）', '(nothing on screen)'],
  until: ['至 {t}', 'until {t}'],
  priority: ['优先级 {p}', 'priority {p}'],
  weather: ['天气信号：台风 {ty}，暴雨 {rs}', 'Weather signals: typhoon {ty}, rainstorm {rs}'],
  templates: ['应急信息模板（预先审批）', 'Emergency messages (approved in advance)'],
  runbook: ['预案 / 步骤', 'Runbook / step'],
  text: ['内容', 'Text'],
  state: ['审批', 'Approval'],
  approved: ['已批准：{by}，{at}', 'approved by {by}, {at}'],
  notApproved: ['未批准（不会上屏）', 'not approved (never shown)'],
  approve: ['批准', 'Approve'],
  approveTitle: ['批准应急信息 {id}', 'Approve the emergency message {id}'],
  note: ['批准说明', 'Note'],
});

export function ScreenPreviews({ screens }: { screens: ScreenInfo[] }) {
  const t = useT(T);
  return (
    <section class="card" data-testid="previews">
      <h2>{t('preview')}</h2>
      {screens.length === 0 && <p class="muted">{t('noScreens')}</p>}
      <div class="previews">
        {screens.map((s) => (
          <ScreenPreview key={s.id} screen={s.id} />
        ))}
      </div>
    </section>
  );
}

function ScreenPreview({ screen }: { screen: string }) {
  const t = useT(T);
  const pick = usePick();
  const now = useResource(() => api<ScreenNow>(`/api/display/${encodeURIComponent(screen)}/now`), [screen]);
  const { reload } = now;
  useEffect(() => onLive('display.changed', (change) => (change.screens.length === 0 || change.screens.includes(screen)) && void reload()), [screen, reload]);
  // An item starting or ending by the clock changes the screen with no event to say so here.
  const next = now.data?.nextChangeAt;
  useEffect(() => {
    if (next === undefined) return;
    const timer = setTimeout(() => void reload(), Math.max(0, next - hubNow()) + 500);
    return () => clearTimeout(timer);
  }, [next, reload]);
  const d = now.data;
  return (
    <div class={`preview mode-${d?.mode ?? 'normal'}`} data-testid={`preview-${screen}`} data-mode={d?.mode}>
      <h3>
        {d ? pick(d.location) : screen} <span class="muted">{screen}</span>
        {d?.mode === 'emergency' && <span class="badge emergency">{t('emergency')}</span>}
      </h3>
      {now.error && <p class="error">{now.error.message}</p>}
      {d && d.entries.length === 0 && <p class="muted">{t('idle')}</p>}
      <ol class="entries">
        {d?.entries.map((e) => (
          <li key={e.id} data-entry-id={e.id}>
            {e.image && <img src={e.image} alt="" loading="lazy" />}
            <strong>{e.title.zh}</strong> <span>{e.title.en}</span>
            <div class="body">{pick(e.body)}</div>
            <div class="muted small">
              {t('priority', { p: e.priority })}
              {e.until !== undefined && ` · ${t('until', { t: fmtDateTime(e.until) })}`}
            </div>
          </li>
        ))}
      </ol>
      {d && (d.weather.typhoon !== 'none' || d.weather.rainstorm !== 'none') && (
        <p class="muted small">{t('weather', { ty: d.weather.typhoon, rs: d.weather.rainstorm })}</p>
      )}
    </div>
  );
}

export function EmergencyTemplates() {
  const t = useT(T);
  const pick = usePick();
  const can = useCan();
  const list = useResource(() => api<{ templates: EmergencyTemplate[] }>('/api/display/emergency-templates'), []);
  const [approving, setApproving] = useState<EmergencyTemplate>();
  const { reload } = list;
  useEffect(() => onLive('display.changed', () => void reload()), [reload]);
  return (
    <section class="card" data-testid="emergency-templates">
      <h2>{t('templates')}</h2>
      {list.error && <p class="error">{list.error.message}</p>}
      <div class="scroll-x">
        <table class="grid">
          <thead>
            <tr>
              <th>{t('runbook')}</th>
              <th>{t('text')}</th>
              <th class="num">P</th>
              <th>{t('state')}</th>
              {can('display.approve') && <th />}
            </tr>
          </thead>
          <tbody>
            {list.data?.templates.map((tp) => (
              <tr key={tp.id} data-template={tp.id} data-approved={String(tp.approved)}>
                <td>{tp.id}</td>
                <td>{pick(tp.text)}</td>
                <td class="num">{tp.priority}</td>
                <td class={tp.approved ? 'q-good' : 'q-bad'}>
                  {tp.approved ? t('approved', { by: tp.approvedBy ?? '', at: fmtDateTime(tp.approvedAt) }) : t('notApproved')}
                </td>
                {can('display.approve') && (
                  <td>
                    {!tp.approved && (
                      <button type="button" class="primary" data-testid="approve-template" onClick={() => setApproving(tp)}>
                        {t('approve')}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {approving && (
        <ActionDialog
          title={t('approveTitle', { id: approving.id })}
          submitLabel={t('approve')}
          testId="approve-template-dialog"
          onClose={() => setApproving(undefined)}
          onSubmit={async (v) => {
            // The id's slash is written "~" in the URL (gateway/http/routes/display.ts).
            await api(`/api/display/emergency-templates/${encodeURIComponent(approving.id.replace('/', '~'))}/approve`, { method: 'POST', body: { note: v.note } });
            await list.reload();
          }}
        >
          <p>{pick(approving.text)}</p>
          <label>
            {t('note')}
            <textarea name="note" required />
          </label>
        </ActionDialog>
      )}
    </section>
  );
}
