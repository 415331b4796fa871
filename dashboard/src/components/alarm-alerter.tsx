import { useEffect, useState } from 'preact/hooks';
import type { Alarm } from '../../../gateway/alarms/types.ts';
import { AlarmActionButton, AlarmActionDialog, useAlarmActions } from '../alarms-actions.tsx';
import { enableSound, setSiren, soundBlocked } from '../alarms-sound.ts';
import { alarms, alerting, incidentOf, incidents, muted, toggleMute } from '../alarms-state.ts';
import { KIND_TEXT, usePlace } from '../alarms-texts.ts';
import '../alarms-alerter.css';
import { texts, usePick, useT } from '../i18n.ts';
import { href } from '../router.ts';
import { useStore } from '../store.ts';
import { fmtDateTime } from '../time.ts';

// The fire-alarm alerter (issue 8), under the header on every page: a new fire (or gas,
// or any priority-1) alarm sounds the horn and shows a flashing red banner until
// someone acknowledges it, here or anywhere else (the acknowledgement arrives as
// 'alarm.changed'). Each alarm's horn can be muted on this screen; a muted alarm keeps
// flashing until it is acknowledged. The banner says what, where and when, and links
// to the alarm and to the incident its signal opened.

const T = texts({
  enableSound: ['浏览器已静音：点击启用报警声音', 'The browser is holding the sound back: click to enable it'],
  mute: ['静音', 'Mute'],
  unmute: ['已静音·恢复声音', 'Muted: unmute'],
  alarm: ['告警详情', 'Alarm'],
  incident: ['处置：{title}', 'Procedure: {title}'],
  at: ['{time} 发生', 'at {time}'],
});

export function AlarmAlerter() {
  const t = useT(T);
  const kind = useT(KIND_TEXT);
  const place = usePlace();
  const p = usePick();
  const open = useStore(alarms);
  const mutedIds = useStore(muted);
  const openIncidents = useStore(incidents);
  const blocked = useStore(soundBlocked);
  const actions = useAlarmActions();
  const [acking, setAcking] = useState<Alarm | undefined>(undefined);

  const alerts = open.filter(alerting);
  const loud = alerts.some((a) => !mutedIds.has(a.id));
  useEffect(() => setSiren(loud), [loud]);
  // Logging out unmounts the shell: the horn stops with it.
  useEffect(() => () => setSiren(false), []);

  if (alerts.length === 0) return null;
  return (
    <div class="alarm-alert" role="alert" aria-live="assertive" data-testid="alarm-banner">
      {blocked && (
        <button type="button" class="alarm-enable-sound" data-testid="enable-sound" onClick={() => void enableSound()}>
          {t('enableSound')}
        </button>
      )}
      {alerts.map((a) => {
        const incident = incidentOf(a, openIncidents);
        const isMuted = mutedIds.has(a.id);
        return (
          <div key={a.id} class="alarm-alert-row" data-testid="alarm-alert" data-alarm-id={a.id} data-muted={isMuted ? 'true' : 'false'}>
            <strong class="alarm-alert-kind">{kind(a.kind)}</strong>
            <span class="alarm-alert-place" data-testid="alarm-place">
              {place(a)}
            </span>
            <span class="alarm-alert-time">{t('at', { time: fmtDateTime(a.raisedAt) })}</span>
            <a href={href('alarms', a.id)} data-testid="alarm-link">
              {t('alarm')}
            </a>
            {incident && (
              <a href={href('incidents', incident.id)} data-testid="incident-link" data-incident-id={incident.id}>
                {t('incident', { title: p(incident.title) })}
              </a>
            )}
            <span class="grow" />
            <button type="button" data-testid="alarm-mute" aria-pressed={isMuted} onClick={() => toggleMute(a.id)}>
              {isMuted ? t('unmute') : t('mute')}
            </button>
            {actions(a).includes('ack') && <AlarmActionButton alarm={a} action="ack" onClick={() => setAcking(a)} />}
          </div>
        );
      })}
      {acking && <AlarmActionDialog alarm={acking} action="ack" onClose={() => setAcking(undefined)} />}
    </div>
  );
}
