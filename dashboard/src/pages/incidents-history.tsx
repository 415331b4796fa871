import type { ComponentChildren } from 'preact';
import type { Incident } from '../../../gateway/runbooks/types.ts';
import { NOTIFY_REASON_TEXT, roleName } from '../incidents-texts.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { fmtDateTime, fmtDuration } from '../time.ts';

// What the hub did about an incident, for the record (第九节 一: the written report):
// the signals that opened or joined it, escalations of late steps (time, step, to
// whom), the notifications sent and whether they were delivered, the lobby messages
// put up and taken down, and the whole timeline.

const T = texts({
  signals: ['触发信号', 'Signals'],
  escalations: ['超时升级记录', 'Escalations'],
  noEscalations: ['没有超时升级。', 'No escalations.'],
  notifications: ['通知', 'Notifications'],
  noNotifications: ['没有通知。', 'No notifications.'],
  lobby: ['大堂屏幕信息', 'Lobby messages'],
  timeline: ['时间线', 'Timeline'],
  time: ['时间', 'Time'],
  step: ['步骤', 'Step'],
  level: ['级别', 'Level'],
  to: ['通知对象', 'To'],
  late: ['超时', 'Late by'],
  reason: ['原因', 'Reason'],
  recipients: ['接收人', 'Recipients'],
  delivery: ['送达', 'Delivery'],
  screens: ['屏幕', 'Screens'],
  text: ['内容', 'Text'],
  shown: ['显示时段', 'Shown'],
  now: ['至今', 'now'],
  by: ['操作人', 'By'],
  what: ['事项', 'What'],
  signal: ['信号', 'Signal'],
  state: ['状态', 'State'],
  first: ['首次', 'First'],
  last: ['最近', 'Last'],
});

export function IncidentHistory({ incident: i }: { incident: Incident }) {
  const t = useT(T);
  const reason = useT(NOTIFY_REASON_TEXT);
  const p = usePick();
  const stepTitle = (key?: string) => (key ? p(i.steps.find((s) => s.key === key)?.title) || key : '');
  const roles = (ids: string[]) => ids.map((r) => p(roleName(i, r))).join('、');
  // The people on duty who were told (the escalation's notification, from the roster).
  // The engine writes both in one go, reading the clock for each: the nearest in time is the one.
  const told = (stepKey: string, at: number) =>
    i.notifications
      .filter((n) => n.reason === 'escalation' && n.stepKey === stepKey)
      .sort((a, b) => Math.abs(a.at - at) - Math.abs(b.at - at))[0]
      ?.recipients.map((r) => `${r.name} ${r.phone}`)
      .join('、') ?? '';
  return (
    <div class="incident-history">
      {i.signals.length > 0 && (
        <Section title={t('signals')}>
          <Table head={[t('signal'), t('state'), t('first'), t('last')]}>
            {i.signals.map((s) => (
              <tr key={s.signal}>
                <td>{s.signal}</td>
                <td>{s.state}</td>
                <td>{fmtDateTime(s.firstAt)}</td>
                <td>{fmtDateTime(s.lastAt)}</td>
              </tr>
            ))}
          </Table>
        </Section>
      )}
      <Section title={t('escalations')} testId="escalations">
        {i.escalations.length === 0 ? (
          <p class="muted">{t('noEscalations')}</p>
        ) : (
          <Table head={[t('time'), t('step'), t('level'), t('to'), t('late')]}>
            {i.escalations.map((e, n) => (
              <tr key={n} data-testid="escalation" data-step={e.stepKey}>
                <td>{fmtDateTime(e.at)}</td>
                <td>{stepTitle(e.stepKey)}</td>
                <td class="num">{e.level}</td>
                <td data-testid="escalation-to">
                  {roles(e.to)}
                  <div class="muted">{told(e.stepKey, e.at)}</div>
                </td>
                <td class="num overdue">{fmtDuration(e.lateByMs)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      <Section title={t('notifications')} testId="notifications">
        {i.notifications.length === 0 ? (
          <p class="muted">{t('noNotifications')}</p>
        ) : (
          <Table head={[t('time'), t('reason'), t('step'), t('recipients'), t('delivery')]}>
            {i.notifications.map((n) => (
              <tr key={n.id} data-testid="notification">
                <td>{fmtDateTime(n.at)}</td>
                <td>{reason(n.reason)}</td>
                <td>{stepTitle(n.stepKey)}</td>
                <td>{n.recipients.length ? n.recipients.map((r) => `${r.name} ${r.phone}`).join('、') : roles(n.roles)}</td>
                <td>
                  {n.deliveries.map((d) => (
                    <span key={d.sink} class={`badge ${d.status === 'delivered' ? 'q-good' : d.status === 'failed' ? 'q-bad' : 'q-stale'}`} title={d.lastError}>
                      {d.sink}: {d.status}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      {i.lobby.length > 0 && (
        <Section title={t('lobby')} testId="lobby-messages">
          <Table head={[t('screens'), t('text'), t('shown')]}>
            {i.lobby.map((m, n) => (
              <tr key={n} class={m.until === undefined ? '' : 'muted'}>
                <td>{m.screens.join(', ')}</td>
                <td>{p(m.text)}</td>
                <td>
                  {fmtDateTime(m.since)} – {m.until === undefined ? t('now') : fmtDateTime(m.until)}
                </td>
              </tr>
            ))}
          </Table>
        </Section>
      )}
      <Section title={t('timeline')} testId="timeline">
        <Table head={[t('time'), t('by'), t('what')]}>
          {i.timeline.map((e, n) => (
            <tr key={n}>
              <td>{fmtDateTime(e.at)}</td>
              <td>{e.by}</td>
              <td>
                {e.what}
                {e.detail && <div class="muted pre">{e.detail}</div>}
              </td>
            </tr>
          ))}
        </Table>
      </Section>
    </div>
  );
}

function Section({ title, testId, children }: { title: string; testId?: string; children: ComponentChildren }) {
  return (
    <section class="incident-section" data-testid={testId}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}

function Table({ head, children }: { head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="grid">
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
