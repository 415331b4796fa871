import { useEffect, useState } from 'preact/hooks';
import type { Incident } from '../../../gateway/runbooks/types.ts';
import { applyIncident } from '../alarms-state.ts';
import { api } from '../api.ts';
import { site } from '../building.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { useResource } from '../components/resource.ts';
import { INCIDENT_STATE_TEXT, VARIANT_TEXT } from '../incidents-texts.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { onLive } from '../live.ts';
import { href } from '../router.ts';
import { useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { fmtDateTime } from '../time.ts';
import { IncidentHistory } from './incidents-history.tsx';
import { StepList } from './incidents-steps.tsx';

// One incident (#/incidents/<id>): the runbook's checklist with live countdowns, then
// what the hub did about it (escalations, notifications, lobby messages, the
// timeline). Stabilising and closing (with the written summary the handbook asks the
// director for, 第九节 一) are here for the roles that may; the printable report opens
// in a new tab.

const T = texts({
  back: ['← 全部事件', '← All incidents'],
  notFound: ['没有这个事件。', 'No such incident.'],
  loading: ['加载中…', 'Loading…'],
  opened: ['{at} 由 {by} 开启', 'Opened {at} by {by}'],
  stabilisedAt: ['{at} 稳定', 'Stabilised {at}'],
  closedAt: ['{at} 由 {by} 结案', 'Closed {at} by {by}'],
  tower: ['楼座：{t}', 'Tower: {t}'],
  level: ['级别：{l}', 'Level: {l}'],
  stabilise: ['标记为已稳定…', 'Stabilise…'],
  stabiliseTitle: ['标记为已稳定：险情已受控', 'Stabilise: the danger is under control'],
  stabiliseNote: ['情况说明（必填）', 'What was done (required)'],
  close: ['结案…', 'Close…'],
  closeTitle: ['结案并提交书面总结', 'Close with the written summary'],
  summary: ['书面总结（必填，报管理处主任，第九节 一）', 'Written summary (required; to the director, 第九节 一)'],
  openSteps: ['尚有 {n} 个步骤未完成，将记录在报告中。', '{n} steps are not done; the report will say so.'],
  report: ['打印报告', 'Print report'],
  fields: ['登记信息', 'Recorded at the start'],
  summaryTitle: ['书面总结', 'Written summary'],
  summaryBy: ['{by} 于 {at}', 'by {by} at {at}'],
  checklist: ['处置步骤', 'Checklist'],
});

/** The incident as the hub has it now: loaded (again at every reconnect), then kept live by 'incident.changed'. */
function useIncident(id: number) {
  const loaded = useResource(() => api<{ incident: Incident }>(`/api/incidents/${id}`), [id]);
  const [live, setLive] = useState<Incident | undefined>(undefined);
  useEffect(() => {
    setLive(undefined);
    return onLive('incident.changed', (change) => {
      if (change.incident.id === id) setLive((prev) => (prev && prev.updatedAt > change.incident.updatedAt ? prev : change.incident));
    });
  }, [id]);
  const fromApi = loaded.data?.incident;
  const incident = live && (!fromApi || live.updatedAt >= fromApi.updatedAt) ? live : fromApi;
  const update = (next: Incident) => {
    setLive(next);
    applyIncident(next);
  };
  return { incident, error: loaded.error, loading: loaded.loading, update };
}

export function IncidentDetail({ id }: { id: number }) {
  const t = useT(T);
  const { incident, error, loading, update } = useIncident(id);
  if (!incident) {
    return (
      <section class="incident-page">
        <a href={href('incidents')}>{t('back')}</a>
        {error ? <p class="error">{error.status === 404 ? t('notFound') : error.message}</p> : loading && <p class="muted">{t('loading')}</p>}
      </section>
    );
  }
  return <IncidentView incident={incident} update={update} />;
}

function IncidentView({ incident: i, update }: { incident: Incident; update: (i: Incident) => void }) {
  const t = useT(T);
  const state = useT(INCIDENT_STATE_TEXT);
  const variant = useT(VARIANT_TEXT);
  const p = usePick();
  const can = useCan();
  const tree = useStore(site);
  const [dialog, setDialog] = useState<'stabilise' | 'close' | undefined>(undefined);
  const tower = i.tower ? (tree?.towers.find((x) => x.id === i.tower)?.name ?? { zh: i.tower, en: i.tower }) : undefined;
  const notDone = i.steps.filter((s) => s.status === 'active' || s.status === 'waiting').length;

  async function act(path: 'stabilise' | 'close', body: object) {
    const { incident } = await api<{ incident: Incident }>(`/api/incidents/${i.id}/${path}`, { method: 'POST', body });
    update(incident);
  }

  return (
    <section class="incident-page" data-testid="incident-detail" data-incident-id={i.id} data-state={i.state}>
      <a href={href('incidents')}>{t('back')}</a>
      <div class="row incident-head">
        <h2 class="grow">
          <span class={`badge inc-st-${i.state}`} data-testid="incident-state">
            {state(i.state)}
          </span>{' '}
          #{i.id} {p(i.title)} <span class="muted">P{i.priority}</span>
        </h2>
        {can('incidents.stabilise') && i.state === 'open' && (
          <button type="button" data-testid="incident-stabilise" onClick={() => setDialog('stabilise')}>
            {t('stabilise')}
          </button>
        )}
        {can('incidents.close') && i.state !== 'closed' && (
          <button type="button" class="danger" data-testid="incident-close" onClick={() => setDialog('close')}>
            {t('close')}
          </button>
        )}
        <a class="button-link" href={`/api/incidents/${i.id}/report?format=html`} target="_blank" rel="noopener" data-testid="incident-report">
          {t('report')}
        </a>
      </div>
      <p class="incident-meta">
        <span>{i.handbook}</span>
        <span>{variant(i.variant)}</span>
        {tower && <span>{t('tower', { t: p(tower) })}</span>}
        {i.level && <span>{t('level', { l: i.level })}</span>}
        <span>{t('opened', { at: fmtDateTime(i.openedAt), by: i.openedBy })}</span>
        {i.stabilisedAt !== undefined && <span>{t('stabilisedAt', { at: fmtDateTime(i.stabilisedAt) })}</span>}
        {i.closedAt !== undefined && <span>{t('closedAt', { at: fmtDateTime(i.closedAt), by: i.closedBy ?? '' })}</span>}
      </p>
      {Object.keys(i.fields).length > 0 && (
        <dl class="incident-fields" aria-label={t('fields')}>
          {Object.entries(i.fields).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
      {i.report && (
        <div class="card incident-summary" data-testid="incident-summary">
          <h3>{t('summaryTitle')}</h3>
          <p class="pre">{i.report.summary}</p>
          <p class="muted">{t('summaryBy', { by: i.report.by, at: fmtDateTime(i.report.at) })}</p>
        </div>
      )}
      <h3>{t('checklist')}</h3>
      <StepList incident={i} update={update} />
      <IncidentHistory incident={i} />
      {dialog === 'stabilise' && (
        <ActionDialog title={t('stabiliseTitle')} submitLabel={t('stabilise')} onSubmit={(v) => act('stabilise', { note: v.note ?? '' })} onClose={() => setDialog(undefined)} testId="incident-stabilise-dialog">
          <label>
            {t('stabiliseNote')}
            <textarea name="note" required maxLength={2000} />
          </label>
        </ActionDialog>
      )}
      {dialog === 'close' && (
        <ActionDialog title={t('closeTitle')} submitLabel={t('close')} danger onSubmit={(v) => act('close', { summary: v.summary ?? '' })} onClose={() => setDialog(undefined)} testId="incident-close-dialog">
          {notDone > 0 && <p class="muted">{t('openSteps', { n: notDone })}</p>}
          <label>
            {t('summary')}
            <textarea name="summary" required maxLength={20000} rows={8} />
          </label>
        </ActionDialog>
      )}
    </section>
  );
}
