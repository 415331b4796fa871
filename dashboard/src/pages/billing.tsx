import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { useResource } from '../components/resource.ts';
import { texts, useT } from '../i18n.ts';
import { href, navigate } from '../router.ts';
import { useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { buildingZone, fmtDateTime, useNow } from '../time.ts';
import { daysUntil, deadlinesOf, lastClosedPeriod, localToday, nextDeadline, PERIOD_RE } from './billing-calendar.ts';
import { BillingExceptions } from './billing-exceptions.tsx';
import { BillingFiles, BillingStatements } from './billing-files.tsx';
import { BillingJobs, ExportReadsLink } from './billing-jobs.tsx';
import { BillingTasks } from './billing-tasks.tsx';
import type { PeriodsReply, RunMeta, RunReply, RunStartReply } from './billing-types.ts';
import './billing.css';

// 抄表收费 (issue 8, billing part): the handbook's calendar with the next deadline,
// the periods and their runs, and for the chosen period (#/billing/YYYY-MM) its
// documents, the VEE exceptions to resolve, its statements, tasks and dunning lists.
// Finance and admins start runs (billing.run); finance and supervisors edit reads and
// accept exceptions (billing.edit); others with billing.read only look.

const T = texts({
  calendar: ['收费日程（第三节）', 'Billing calendar (第三节)'],
  next: ['下一个期限', 'Next deadline'],
  reads: ['25日前抄表', 'Reads by the 25th'],
  notices: ['1日前发出收费通知单', 'Notices out by the 1st'],
  payment: ['5日前缴费', 'Payment due by the 5th'],
  reminders: ['18日电话催缴', 'Phone reminders on the 18th'],
  letters: ['23日发催缴函', 'Dunning letters on the 23rd'],
  inDays: ['{n} 天后', 'in {n} days'],
  today: ['今天', 'today'],
  passed: ['已过', 'passed'],
  periodOf: ['{p} 期', 'period {p}'],
  periods: ['结算期', 'Billing periods'],
  period: ['结算期', 'Period'],
  version: ['版本', 'Version'],
  status: ['状态', 'Status'],
  draft: ['草稿', 'draft'],
  closed: ['已结账', 'closed'],
  created: ['计算时间', 'Computed'],
  by: ['操作人', 'By'],
  noRuns: ['尚无结算。', 'No billing run yet.'],
  startRun: ['开始结算', 'Start run'],
  runAgain: ['重新计算', 'Run again'],
  running: ['计算中…', 'Running…'],
  outcome_new: ['已生成第 {v} 版。', 'Version {v} made.'],
  outcome_unchanged: ['结果未变，仍为第 {v} 版。', 'Nothing changed; still version {v}.'],
  outcome_correction: ['已生成更正版第 {v} 版。', 'Correction version {v} made.'],
  noRunFor: ['{p} 期尚未结算。', 'No run for {p} yet.'],
  runOf: ['{p} 期 第 {v} 版', '{p}, version {v}'],
  corrects: ['更正第 {v} 版', 'corrects version {v}'],
  statements: ['收费单', 'Statements'],
  held: ['暂缓', 'Held'],
  openExceptions: ['待处理异常', 'Open exceptions'],
  loading: ['加载中…', 'Loading…'],
  alreadyRunning: ['本期正在计算中（见“进行中的任务”），请等它完成。', 'This period is being computed already (see "Jobs in progress"); wait for it to finish.'],
});

export function BillingPage({ params }: PageProps) {
  const t = useT(T);
  const can = useCan();
  const zone = useStore(buildingZone);
  const now = useNow(60_000);
  const today = localToday(now, zone);
  const periods = useResource(() => api<PeriodsReply>('/api/billing/periods'), []);
  const latest = latestByPeriod(periods.data?.runs ?? []);
  const chosen = params[0] && PERIOD_RE.test(params[0]) ? params[0] : (latest[0]?.period ?? lastClosedPeriod(today));

  return (
    <div class="billing">
      <Calendar today={today} period={chosen} />
      <BillingJobs />
      <section class="card">
        <div class="row">
          <h2 class="grow">{t('periods')}</h2>
          {can('billing.run') && <StartRun onDone={periods.reload} initial={lastClosedPeriod(today)} />}
        </div>
        {periods.error && <p class="error" data-testid="billing-error">{periods.error.message}</p>}
        {periods.data && latest.length === 0 && <p class="muted">{t('noRuns')}</p>}
        {latest.length > 0 && (
          <div class="scroll-x">
            <table class="grid" data-testid="billing-periods">
              <thead>
                <tr>
                  <th>{t('period')}</th>
                  <th>{t('version')}</th>
                  <th>{t('status')}</th>
                  <th>{t('created')}</th>
                  <th>{t('by')}</th>
                </tr>
              </thead>
              <tbody>
                {latest.map((r) => (
                  <tr key={r.period} class={r.period === chosen ? 'chosen' : ''} data-period={r.period}>
                    <td>
                      <a href={href('billing', r.period)}>{r.period}</a>
                    </td>
                    <td class="num">v{r.version}</td>
                    <td>
                      <span class={`badge run-${r.status}`}>{t(r.status)}</span>
                    </td>
                    <td>{fmtDateTime(r.createdAt)}</td>
                    <td>{r.createdBy}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <PeriodView key={chosen} period={chosen} onRun={periods.reload} />
    </div>
  );
}

/** The latest version of each period, newest period first. */
function latestByPeriod(runs: RunMeta[]): RunMeta[] {
  const byPeriod = new Map<string, RunMeta>();
  for (const r of runs) if ((byPeriod.get(r.period)?.version ?? 0) < r.version) byPeriod.set(r.period, r);
  return [...byPeriod.values()].sort((a, b) => b.period.localeCompare(a.period));
}

function Calendar({ today, period }: { today: string; period: string }) {
  const t = useT(T);
  const next = nextDeadline(today);
  const days = daysUntil(today, next.date);
  return (
    <section class="card billing-calendar" data-testid="billing-calendar">
      <h2>{t('calendar')}</h2>
      <p class="next-deadline" data-testid="next-deadline" data-key={next.key} data-date={next.date}>
        <strong>{t('next')}:</strong> {t(next.key)} — {next.date} ({t('periodOf', { p: next.period })}),{' '}
        {days === 0 ? t('today') : t('inDays', { n: days })}
      </p>
      <ol class="deadlines">
        {deadlinesOf(period).map((d) => (
          <li key={d.key} class={d.date < today ? 'past' : d.date === next.date ? 'next' : ''} data-key={d.key}>
            <span class="date">{d.date}</span> {t(d.key)}
            {d.date < today && <span class="muted"> · {t('passed')}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function StartRun({ initial, onDone }: { initial: string; onDone: () => Promise<void> }) {
  const t = useT(T);
  const [period, setPeriod] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  async function start(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      const r = await api<RunStartReply>('/api/billing/runs', { method: 'POST', body: { period } });
      setMessage({ ok: true, text: t(`outcome_${r.outcome}`, { v: r.run.version }) });
      await onDone();
      navigate('billing', period);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setMessage({ ok: false, text: err.code === 'BOHUB_BILLING_RUNNING' ? t('alreadyRunning') : err.message });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="row" onSubmit={start} data-testid="start-run">
      <input type="month" required value={period} onInput={(e) => setPeriod(e.currentTarget.value)} name="period" />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t('running') : t('startRun')}
      </button>
      {message && <span class={message.ok ? 'muted' : 'error'} role="status">{message.text}</span>}
    </form>
  );
}

function PeriodView({ period, onRun }: { period: string; onRun: () => Promise<void> }) {
  const t = useT(T);
  const can = useCan();
  const run = useResource(() => api<RunReply>(`/api/billing/runs/${period}`), [period]);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  async function again() {
    setBusy(true);
    try {
      const r = await api<RunStartReply>('/api/billing/runs', { method: 'POST', body: { period } });
      setNote(t(`outcome_${r.outcome}`, { v: r.run.version }));
      await Promise.all([run.reload(), onRun()]);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setNote(err.code === 'BOHUB_BILLING_RUNNING' ? t('alreadyRunning') : err.message);
    } finally {
      setBusy(false);
    }
  }
  const notFound = run.error?.status === 404;
  const data = run.data;
  const held = data?.statements.filter((s) => s.status === 'held').length ?? 0;
  const open = data?.exceptions.filter((e) => e.blocking).length ?? 0;
  return (
    <>
      <section class="card" data-testid="run" data-period={period} data-version={data?.run.version}>
        <div class="row">
          <h2 class="grow">{data ? t('runOf', { p: period, v: data.run.version }) : period}</h2>
          {can('billing.run') && (notFound || data) && (
            <button type="button" class="primary" disabled={busy} onClick={() => void again()} data-testid="run-again">
              {busy ? t('running') : data ? t('runAgain') : t('startRun')}
            </button>
          )}
          {note && <span class="muted" role="status" data-testid="run-note">{note}</span>}
        </div>
        {run.loading && !data && !run.error && <p class="muted">{t('loading')}</p>}
        {notFound && <p class="muted">{t('noRunFor', { p: period })}</p>}
        {run.error && !notFound && <p class="error">{run.error.message}</p>}
        {data && (
          <dl class="run-facts">
            <dt>{t('status')}</dt>
            <dd>
              <span class={`badge run-${data.run.status}`}>{t(data.run.status)}</span>
              {data.run.corrects !== undefined && <span class="muted"> · {t('corrects', { v: data.run.corrects })}</span>}
            </dd>
            <dt>{t('created')}</dt>
            <dd>{fmtDateTime(data.run.createdAt)} · {data.run.createdBy}</dd>
            <dt>{t('statements')}</dt>
            <dd class="num">{data.statements.length}</dd>
            <dt>{t('held')}</dt>
            <dd class="num" data-testid="held-count">{held}</dd>
            <dt>{t('openExceptions')}</dt>
            <dd class="num" data-testid="open-count">{open}</dd>
          </dl>
        )}
        {data && <BillingFiles run={data.run} />}
        {can('billing.run') && <ExportReadsLink period={period} />}
      </section>
      {data && <BillingExceptions run={data} onChanged={run.reload} />}
      {data && <BillingStatements statements={data.statements} />}
      <BillingTasks period={period} />
    </>
  );
}
