import { useEffect, useState } from 'preact/hooks';
import type { JobProgress } from '../../../gateway/work/jobs.ts';
import { apiUrl } from '../api.ts';
import { lang, texts, useT } from '../i18n.ts';
import { onLive } from '../live.ts';
import { fmtTime, parseLocalInput } from '../time.ts';
import { shiftPeriod } from './billing-calendar.ts';

// Long billing jobs as they run (issue 15): each run and readings export reports
// what it is doing over the live socket ('job.progress', gateway/work/jobs.ts), and
// this card shows a bar per job with its stage, who started it and when, until a
// short while after it ends. Everyone with billing.read sees every job, so a second
// finance user knows a run is already under way before pressing the button.

const T = texts({
  jobs: ['进行中的任务', 'Jobs in progress'],
  'billing.run': ['结算 {s}', 'Billing run {s}'],
  'billing.export-readings': ['导出读数 {s}', 'Readings export {s}'],
  'billing.import-readings': ['导入读数 {s}', 'Readings import {s}'],
  'billing.import-payments': ['导入缴费 {s}', 'Payments import {s}'],
  startedBy: ['{who} 于 {at} 开始', 'started by {who} at {at}'],
  queued: ['排队等待', 'Waiting for a worker'],
  meters: ['校验表计读数 {d}/{n}', 'Validating meter reads {d}/{n}'],
  saving: ['保存结果', 'Saving the result'],
  rendering: ['生成文档', 'Rendering the documents'],
  uploading: ['接收文件', 'Receiving the file'],
  checking: ['检查文件 {p}%', 'Checking the file {p}%'],
  writing: ['写入 {d}/{n} 行', 'Writing row {d} of {n}'],
  done: ['已完成', 'Done'],
  failed: ['失败：{e}', 'Failed: {e}'],
  exportReads: ['导出本期读数（CSV）', "Export this period's reads (CSV)"],
});

/** How long a finished job stays on the card. */
const KEEP_FINISHED_MS = 10_000;

export function BillingJobs() {
  const t = useT(T);
  const [jobs, setJobs] = useState<ReadonlyMap<number, JobProgress>>(new Map());
  useEffect(() => {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const off = onLive('job.progress', (p) => {
      setJobs((old) => new Map(old).set(p.id, p));
      if (p.state === 'running') return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        setJobs((old) => {
          const next = new Map(old);
          next.delete(p.id);
          return next;
        });
      }, KEEP_FINISHED_MS);
      timers.add(timer);
    });
    return () => {
      off();
      for (const timer of timers) clearTimeout(timer);
    };
  }, []);
  if (!jobs.size) return null;
  return (
    <section class="card billing-jobs" data-testid="billing-jobs" aria-live="polite">
      <h2>{t('jobs')}</h2>
      <ul>
        {[...jobs.values()].map((j) => (
          <li key={j.id} data-kind={j.kind} data-state={j.state} data-stage={j.stage}>
            <div class="row">
              <strong class="grow">{t(j.kind, { s: j.subject })}</strong>
              <span class="muted">{t('startedBy', { who: j.startedBy, at: fmtTime(j.startedAt) })}</span>
            </div>
            <progress max={j.state === 'running' ? j.total || undefined : 1} value={j.state === 'running' ? (j.total ? j.done : undefined) : 1} />
            <span class={j.state === 'failed' ? 'error' : 'muted'}>{stageText(t, j)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function stageText(t: ReturnType<typeof useT<typeof T>>, j: JobProgress): string {
  if (j.state === 'failed') return t('failed', { e: j.error ?? '' });
  if (j.state === 'done') return t('done');
  // Counts of hundreds of thousands of rows read better grouped: 140,000/862,240.
  const count = (n: number) => n.toLocaleString(lang.get());
  if (j.stage === 'meters') return t('meters', { d: count(j.done), n: count(j.total) });
  if (j.stage === 'writing') return t('writing', { d: count(j.done), n: count(j.total) });
  // Checking counts bytes of the file, so it reads as a percentage.
  if (j.stage === 'checking') return t('checking', { p: j.total ? Math.floor((j.done * 100) / j.total) : 0 });
  return j.stage === 'saving' || j.stage === 'rendering' || j.stage === 'uploading' ? t(j.stage) : t('queued');
}

/** A download of the period's reads: from the 25th before it to its own 25th (handbook 第三节 reading day), building time. */
export function ExportReadsLink({ period }: { period: string }) {
  const t = useT(T);
  const from = parseLocalInput(`${shiftPeriod(period, -1)}-25T00:00`);
  const to = parseLocalInput(`${period}-25T00:00`);
  if (from === undefined || to === undefined) return null;
  const url = apiUrl('/api/billing/export/readings', { from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  return (
    <a href={url} download data-testid="export-reads">
      {t('exportReads')}
    </a>
  );
}
