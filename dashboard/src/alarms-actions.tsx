import type { Alarm } from '../../gateway/alarms/types.ts';
import { applyAlarm } from './alarms-state.ts';
import { KIND_TEXT, usePlace } from './alarms-texts.ts';
import { api } from './api.ts';
import { ActionDialog } from './components/action-dialog.tsx';
import { texts, useT } from './i18n.ts';
import { useCan } from './session.ts';

// The three things a person does to an alarm (gateway/http/routes/alarms.ts), each with
// words for the record (ISA-18.2: every operator action is documented): acknowledge
// and reset with a comment, shelve with a reason and a time limit. The buttons exist
// only for a role that may use them.

export type AlarmAction = 'ack' | 'reset' | 'shelve';

const T = texts({
  ack: ['确认', 'Acknowledge'],
  reset: ['复位', 'Reset'],
  shelve: ['搁置', 'Shelve'],
  ackTitle: ['确认告警：{what}', 'Acknowledge: {what}'],
  resetTitle: ['复位告警：{what}', 'Reset: {what}'],
  shelveTitle: ['搁置告警：{what}', 'Shelve: {what}'],
  comment: ['说明（必填）', 'Comment (required)'],
  reason: ['搁置原因（必填）', 'Reason (required)'],
  minutes: ['搁置分钟数', 'Minutes'],
  shelveNote: ['到时自动恢复显示。', 'It comes back by itself when the time is up.'],
});

/** Which actions this role may take on this alarm now (the hub refuses the others anyway). */
export function useAlarmActions(): (a: Alarm) => AlarmAction[] {
  const can = useCan();
  return (a) => {
    if (a.state === 'normal') return [];
    const out: AlarmAction[] = [];
    if (can('alarms.ack') && !a.acked) out.push('ack');
    // A latched fire is reset once it is acknowledged and its zone is back to normal.
    if (can('alarms.ack') && a.latching && a.acked && !a.active) out.push('reset');
    // Fire and gas are never shelved (NFPA 72, handbook 第九节 七): the hub refuses, so no button.
    if (can('alarms.shelve') && a.system !== 'fire' && a.system !== 'gas' && !a.shelved) out.push('shelve');
    return out;
  };
}

export function AlarmActionButton({ alarm, action, onClick }: { alarm: Alarm; action: AlarmAction; onClick: () => void }) {
  const t = useT(T);
  return (
    <button type="button" class={action === 'ack' ? 'primary' : ''} data-action={action} data-alarm-id={alarm.id} onClick={onClick}>
      {t(action)}
    </button>
  );
}

export function AlarmActionDialog({ alarm, action, onClose }: { alarm: Alarm; action: AlarmAction; onClose: () => void }) {
  const t = useT(T);
  const kind = useT(KIND_TEXT);
  const place = usePlace();
  const what = `${kind(alarm.kind)} ${place(alarm)}`;
  async function submit(values: Record<string, string>) {
    const body = action === 'shelve' ? { reason: values.reason ?? '', minutes: Number(values.minutes) } : { comment: values.comment ?? '' };
    const { alarm: next } = await api<{ alarm: Alarm }>(`/api/alarms/${alarm.id}/${action}`, { method: 'POST', body });
    // The same record also comes as 'alarm.changed'; applying it now saves the round trip.
    applyAlarm(next);
  }
  return (
    <ActionDialog title={t(`${action}Title`, { what })} submitLabel={t(action)} onSubmit={submit} onClose={onClose} testId={`alarm-${action}-dialog`}>
      {action === 'shelve' ? (
        <>
          <label>
            {t('reason')}
            <textarea name="reason" required maxLength={1000} />
          </label>
          <label>
            {t('minutes')}
            <input name="minutes" type="number" min={1} step={1} defaultValue="60" required />
          </label>
          <p class="muted">{t('shelveNote')}</p>
        </>
      ) : (
        <label>
          {t('comment')}
          <textarea name="comment" required maxLength={1000} />
        </label>
      )}
    </ActionDialog>
  );
}
