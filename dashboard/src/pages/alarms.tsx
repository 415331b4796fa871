import { useEffect, useState } from 'preact/hooks';
import type { Alarm } from '../../../gateway/alarms/types.ts';
import { AlarmActionButton, AlarmActionDialog, useAlarmActions, type AlarmAction } from '../alarms-actions.tsx';
import { alarmOrder, alarms, alarmsLoaded, incidentOf, incidents } from '../alarms-state.ts';
import { KIND_TEXT, stateLabel, usePlace } from '../alarms-texts.ts';
import { api } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { useResource } from '../components/resource.ts';
import { lang, texts, useT } from '../i18n.ts';
import { href } from '../router.ts';
import { useStore } from '../store.ts';
import { fmtDateTime } from '../time.ts';
import './alarms.css';

// The alarms page (#/alarms, #/alarms/<id> to point at one): open alarms in priority
// order (priority, then newest; ISA-18.2), their state, place and times, who
// acknowledged or shelved them and why, and the actions the role may take. Shelved
// alarms are out of the default view (that is what shelving is for) but one click
// away; "recent" adds the alarms that are over.

const T = texts({
  title: ['告警', 'Alarms'],
  viewActive: ['当前告警 ({n})', 'Active ({n})'],
  viewShelved: ['已搁置 ({n})', 'Shelved ({n})'],
  viewAll: ['近期全部', 'All recent'],
  none: ['没有告警。', 'No alarms.'],
  loading: ['加载中…', 'Loading…'],
  priority: ['优先级', 'Priority'],
  kind: ['类别', 'Kind'],
  place: ['位置', 'Place'],
  state: ['状态', 'State'],
  raised: ['发生时间', 'Raised'],
  handled: ['处理记录', 'Handled'],
  actions: ['操作', 'Actions'],
  incident: ['事件 #{id}', 'Incident #{id}'],
  ackBy: ['{by} 于 {at} 确认：{comment}', 'Acknowledged by {by} at {at}: {comment}'],
  resetBy: ['{by} 于 {at} 复位：{comment}', 'Reset by {by} at {at}: {comment}'],
  shelvedBy: ['{by} 搁置至 {until}：{reason}', 'Shelved by {by} until {until}: {reason}'],
  cleared: ['{at} 恢复', 'Cleared at {at}'],
  activations: ['重复 {n} 次', '{n} activations'],
  maintenance: ['维护窗口 {w}：不通知', 'Maintenance window {w}: not notified'],
});

type View = 'active' | 'shelved' | 'all';

export function AlarmsPage({ params }: PageProps) {
  const t = useT(T);
  const open = useStore(alarms);
  const loaded = useStore(alarmsLoaded);
  const [view, setView] = useState<View>('active');
  const selected = params[0] ? Number(params[0]) : undefined;
  const recent = useResource(() => (view === 'all' ? api<{ alarms: Alarm[] }>('/api/alarms', { query: { state: 'all' } }) : Promise.resolve(undefined)), [view]);

  const shelved = open.filter((a) => a.shelved);
  let list: readonly Alarm[];
  if (view === 'active') list = open.filter((a) => !a.shelved || a.id === selected);
  else if (view === 'shelved') list = shelved;
  else {
    // The history as loaded, with the live record of every alarm the page follows on top.
    const live = new Map(open.map((a) => [a.id, a]));
    const merged = new Map((recent.data?.alarms ?? []).map((a) => [a.id, live.get(a.id) ?? a]));
    for (const a of open) merged.set(a.id, a);
    list = [...merged.values()].sort(alarmOrder);
  }

  return (
    <section class="alarms-page">
      <div class="row">
        <h2 class="grow">{t('title')}</h2>
        <div class="alarms-views" role="tablist">
          {(['active', 'shelved', 'all'] as const).map((v) => (
            <button key={v} type="button" role="tab" aria-selected={view === v} class={view === v ? 'primary' : ''} data-testid={`alarm-view-${v}`} onClick={() => setView(v)}>
              {v === 'active' ? t('viewActive', { n: open.length - shelved.length }) : v === 'shelved' ? t('viewShelved', { n: shelved.length }) : t('viewAll')}
            </button>
          ))}
        </div>
      </div>
      {!loaded || (view === 'all' && recent.loading && !recent.data) ? (
        <p class="muted">{t('loading')}</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="alarms-empty">
          {t('none')}
        </p>
      ) : (
        <AlarmTable list={list} selected={selected} />
      )}
    </section>
  );
}

function AlarmTable({ list, selected }: { list: readonly Alarm[]; selected?: number }) {
  const t = useT(T);
  const kind = useT(KIND_TEXT);
  const place = usePlace();
  const l = useStore(lang);
  const openIncidents = useStore(incidents);
  const actions = useAlarmActions();
  const [acting, setActing] = useState<{ alarm: Alarm; action: AlarmAction } | undefined>(undefined);

  useEffect(() => {
    if (selected !== undefined) document.querySelector(`[data-testid="alarm-row"][data-alarm-id="${selected}"]`)?.scrollIntoView({ block: 'center' });
  }, [selected]);

  return (
    <div class="table-wrap">
      <table class="grid alarms-table">
        <thead>
          <tr>
            <th class="num">{t('priority')}</th>
            <th>{t('kind')}</th>
            <th>{t('place')}</th>
            <th>{t('state')}</th>
            <th>{t('raised')}</th>
            <th>{t('handled')}</th>
            <th>{t('actions')}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((a) => {
            const incident = incidentOf(a, openIncidents);
            return (
              <tr key={a.id} data-testid="alarm-row" data-alarm-id={a.id} data-state={a.state} class={`prio-${Math.min(a.priority, 5)} ${a.id === selected ? 'selected' : ''} ${a.acked ? '' : 'unacked'}`}>
                <td class="num">P{a.priority}</td>
                <td class={`kind-${a.kind}`}>{kind(a.kind)}</td>
                <td>
                  {place(a)}
                  {incident && (
                    <div>
                      <a href={href('incidents', incident.id)}>{t('incident', { id: incident.id })}</a>
                    </div>
                  )}
                </td>
                <td data-testid="alarm-state">
                  <span class={`badge st-${a.state}`}>{stateLabel(a, l)}</span>
                  {a.activations > 1 && <div class="muted">{t('activations', { n: a.activations })}</div>}
                </td>
                <td>{fmtDateTime(a.raisedAt)}</td>
                <td class="alarm-handled" data-testid="alarm-handled">
                  {a.clearedAt !== undefined && <div>{t('cleared', { at: fmtDateTime(a.clearedAt) })}</div>}
                  {a.ack && <div>{t('ackBy', { by: a.ack.by, at: fmtDateTime(a.ack.at), comment: a.ack.comment })}</div>}
                  {a.reset && <div>{t('resetBy', { by: a.reset.by, at: fmtDateTime(a.reset.at), comment: a.reset.comment })}</div>}
                  {a.shelved && <div>{t('shelvedBy', { by: a.shelved.by, until: fmtDateTime(a.shelved.until), reason: a.shelved.reason })}</div>}
                  {a.maintenanceWindow && <div class="muted">{t('maintenance', { w: a.maintenanceWindow })}</div>}
                </td>
                <td class="alarm-actions">
                  {actions(a).map((action) => (
                    <AlarmActionButton key={action} alarm={a} action={action} onClick={() => setActing({ alarm: a, action })} />
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {acting && <AlarmActionDialog alarm={acting.alarm} action={acting.action} onClose={() => setActing(undefined)} />}
    </div>
  );
}
