import { useState } from 'preact/hooks';
import type { Incident } from '../../../gateway/runbooks/types.ts';
import { incidentOrder, incidents } from '../alarms-state.ts';
import { api } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { site } from '../building.ts';
import { useResource } from '../components/resource.ts';
import { INCIDENT_STATE_TEXT, overdueSteps, VARIANT_TEXT } from '../incidents-texts.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { href, navigate } from '../router.ts';
import { useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { fmtDateTime, useNow } from '../time.ts';
import { IncidentDetail } from './incidents-detail.tsx';
import { StartIncidentDialog } from './incidents-start.tsx';
import './incidents.css';

// The incidents page (#/incidents, and #/incidents/<id> for one incident): the
// handbook's procedures (第九节) being run, open ones first by priority, then the
// stabilised ones; "all" adds the closed ones. A role that may start a procedure by
// hand (a tenant's phone call about a theft) gets the start button.

const T = texts({
  title: ['事件处置', 'Incidents'],
  viewActive: ['进行中 ({n})', 'Open and stabilised ({n})'],
  viewAll: ['全部（含已结案）', 'All, closed included'],
  start: ['手动启动处置流程…', 'Start a procedure…'],
  none: ['没有进行中的事件。', 'No open incidents.'],
  loading: ['加载中…', 'Loading…'],
  priority: ['优先级', 'Priority'],
  runbook: ['处置流程', 'Procedure'],
  state: ['状态', 'State'],
  opened: ['开始时间', 'Opened'],
  tower: ['楼座', 'Tower'],
  progress: ['步骤', 'Steps'],
  progressOf: ['{done}/{all} 完成', '{done} of {all} done'],
  overdue: ['{n} 项超时', '{n} overdue'],
  site: ['全场', 'Site'],
});

export function IncidentsPage({ params }: PageProps) {
  const id = params[0] ? Number(params[0]) : undefined;
  if (id !== undefined && Number.isInteger(id) && id > 0) return <IncidentDetail id={id} />;
  return <IncidentList />;
}

function IncidentList() {
  const t = useT(T);
  const can = useCan();
  const active = useStore(incidents);
  const [all, setAll] = useState(false);
  const [starting, setStarting] = useState(false);
  const history = useResource(() => (all ? api<{ incidents: Incident[] }>('/api/incidents', { query: { state: 'all' } }) : Promise.resolve(undefined)), [all]);

  let list: readonly Incident[] = active;
  if (all) {
    // The loaded history, with the live record of every incident the page follows on top.
    const merged = new Map((history.data?.incidents ?? []).map((i) => [i.id, i]));
    for (const i of active) merged.set(i.id, i);
    list = [...merged.values()].sort(incidentOrder);
  }

  return (
    <section class="incidents-page">
      <div class="row">
        <h2 class="grow">{t('title')}</h2>
        <button type="button" role="tab" aria-selected={!all} class={all ? '' : 'primary'} data-testid="incident-view-active" onClick={() => setAll(false)}>
          {t('viewActive', { n: active.length })}
        </button>
        <button type="button" role="tab" aria-selected={all} class={all ? 'primary' : ''} data-testid="incident-view-all" onClick={() => setAll(true)}>
          {t('viewAll')}
        </button>
        {can('incidents.start') && (
          <button type="button" data-testid="incident-start" onClick={() => setStarting(true)}>
            {t('start')}
          </button>
        )}
      </div>
      {all && history.loading && !history.data ? (
        <p class="muted">{t('loading')}</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="incidents-empty">
          {t('none')}
        </p>
      ) : (
        <IncidentTable list={list} />
      )}
      {starting && <StartIncidentDialog onClose={() => setStarting(false)} onStarted={(i) => navigate('incidents', i.id)} />}
    </section>
  );
}

function IncidentTable({ list }: { list: readonly Incident[] }) {
  const t = useT(T);
  const state = useT(INCIDENT_STATE_TEXT);
  const variant = useT(VARIANT_TEXT);
  const p = usePick();
  const now = useNow();
  const tree = useStore(site);
  const towerName = (id: string | undefined) => (id ? p(tree?.towers.find((x) => x.id === id)?.name) || id : t('site'));
  return (
    <div class="table-wrap">
      <table class="grid incidents-table">
        <thead>
          <tr>
            <th class="num">{t('priority')}</th>
            <th>{t('runbook')}</th>
            <th>{t('state')}</th>
            <th>{t('opened')}</th>
            <th>{t('tower')}</th>
            <th>{t('progress')}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((i) => {
            const counted = i.steps.filter((s) => s.status !== 'skipped');
            const late = overdueSteps(i, now);
            return (
              <tr key={i.id} data-testid="incident-row" data-incident-id={i.id} data-state={i.state} class={`inc-${i.state} prio-${Math.min(i.priority, 5)}`}>
                <td class="num">P{i.priority}</td>
                <td>
                  <a href={href('incidents', i.id)} data-testid="incident-open">
                    #{i.id} {p(i.title)}
                  </a>
                  <div class="muted">
                    {i.handbook} · {variant(i.variant)}
                  </div>
                </td>
                <td>
                  <span class={`badge inc-st-${i.state}`}>{state(i.state)}</span>
                </td>
                <td>{fmtDateTime(i.openedAt)}</td>
                <td>{towerName(i.tower)}</td>
                <td>
                  {t('progressOf', { done: counted.filter((s) => s.status === 'done').length, all: counted.length })}
                  {late > 0 && (
                    <div class="overdue" data-testid="incident-overdue">
                      {t('overdue', { n: late })}
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
