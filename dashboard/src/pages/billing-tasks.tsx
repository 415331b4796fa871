import { useState } from 'preact/hooks';
import { api, ApiError, apiUrl } from '../api.ts';
import { useResource } from '../components/resource.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { useCan } from '../session.ts';
import { fmtDateTime } from '../time.ts';
import type { BillingTask, DunningList, DunningReply, TasksReply } from './billing-types.ts';

// The period's follow-up work (handbook 第三节 费用催缴规程): the tasks the hub opened
// on their days (GET /api/billing/tasks, one per dunning list), and the dunning
// lists as of today — the phone list of the 18th and the letters of the 23rd first.
// Anyone with billing.read works the tasks (open ↔ done); the suspension list's
// approval is the director's (billing.approve: supervisor or admin; 第三节: suspending a
// unit's services needs the head's signature).

const T = texts({
  tasks: ['催缴任务', 'Dunning tasks'],
  noTasks: ['本期尚无任务（到期日由系统自动生成）。', 'No tasks for this period yet (the hub opens each on its day).'],
  list: ['清单', 'List'],
  due: ['日期', 'Date'],
  state: ['状态', 'State'],
  updated: ['更新', 'Updated'],
  open: ['待办', 'open'],
  done: ['已完成', 'done'],
  pending_approval: ['待主任批准', 'awaiting the director'],
  approved: ['已批准', 'approved'],
  markDone: ['标记完成', 'Mark done'],
  reopen: ['重新打开', 'Reopen'],
  approve: ['批准', 'Approve'],
  dunning: ['催缴清单（截至 {date}）', 'Dunning lists (as of {date})'],
  units: ['{n} 个单元', '{n} units'],
  download: ['下载（JSON）', 'Download (JSON)'],
  unit: ['单元', 'Unit'],
  company: ['客户', 'Tenant'],
  balance: ['欠费', 'Balance'],
  months: ['欠费月数', 'Months'],
  periods: ['欠费期', 'Periods'],
  empty: ['无欠费单元。', 'No unit in arrears.'],
});

/** The lists of the 18th (phone) and the 23rd (letters): the ones the brief asks to keep in view. */
const FOREMOST = new Set(['phone_reminders', 'dunning_letters']);

export function BillingTasks({ period }: { period: string }) {
  const t = useT(T);
  const tasks = useResource(() => api<TasksReply>('/api/billing/tasks', { query: { period } }), [period]);
  const dunning = useResource(() => api<DunningReply>(`/api/billing/dunning/${period}`), [period]);
  const lists = [...(dunning.data?.lists ?? [])].sort((a, b) => Number(FOREMOST.has(b.id)) - Number(FOREMOST.has(a.id)));
  return (
    <>
      <section class="card" data-testid="tasks">
        <h2>{t('tasks')}</h2>
        {tasks.error && <p class="error">{tasks.error.message}</p>}
        {tasks.data?.tasks.length === 0 && <p class="muted">{t('noTasks')}</p>}
        {tasks.data && tasks.data.tasks.length > 0 && (
          <div class="scroll-x">
            <table class="grid">
              <thead>
                <tr>
                  <th>{t('list')}</th>
                  <th>{t('due')}</th>
                  <th>{t('state')}</th>
                  <th>{t('updated')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tasks.data.tasks.map((task) => (
                  <TaskRow key={task.id} task={task} onChanged={tasks.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card" data-testid="dunning">
        <h2>{t('dunning', { date: dunning.data?.date ?? '…' })}</h2>
        {dunning.error && <p class="error">{dunning.error.message}</p>}
        {lists.map((list) => (
          <DunningListView key={list.id} list={list} period={period} today={dunning.data!.date} />
        ))}
      </section>
    </>
  );
}

function TaskRow({ task, onChanged }: { task: BillingTask; onChanged: () => Promise<void> }) {
  const t = useT(T);
  const pick = usePick();
  const can = useCan();
  const [error, setError] = useState('');
  const doc = task.doc as Partial<DunningList> | null;
  async function set(state: 'open' | 'done' | 'approved') {
    try {
      if (state === 'approved') await api(`/api/billing/tasks/${task.id}/approve`, { method: 'POST' });
      else await api(`/api/billing/tasks/${task.id}/state`, { method: 'POST', body: { state } });
      setError('');
      await onChanged();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err.message);
    }
  }
  return (
    <tr data-task={task.list} data-state={task.state}>
      <td>{doc?.title ? pick(doc.title) : task.list}</td>
      <td>{task.dueDate}</td>
      <td>
        <span class="badge">{t(task.state)}</span>
      </td>
      <td>
        {fmtDateTime(task.updatedAt)} · {task.updatedBy}
      </td>
      <td>
        {task.state === 'open' && (
          <button type="button" onClick={() => void set('done')}>
            {t('markDone')}
          </button>
        )}
        {task.state === 'done' && (
          <button type="button" onClick={() => void set('open')}>
            {t('reopen')}
          </button>
        )}
        {task.state === 'pending_approval' && can('billing.approve') && (
          <button type="button" class="primary" data-testid="approve-task" onClick={() => void set('approved')}>
            {t('approve')}
          </button>
        )}
        {error && <span class="error"> {error}</span>}
      </td>
    </tr>
  );
}

function DunningListView({ list, period, today }: { list: DunningList; period: string; today: string }) {
  const t = useT(T);
  const pick = usePick();
  // A list whose day has come is worked out as of its own day; a later one as of today.
  const asOf = list.date <= today ? list.date : today;
  return (
    <details class="dunning-list" open={FOREMOST.has(list.id)} data-list={list.id}>
      <summary>
        <strong>{list.date}</strong> {pick(list.title)} · <span class="muted">{t('units', { n: list.units.length })}</span>{' '}
        <a href={apiUrl(`/api/billing/dunning/${period}`, { date: asOf })} download={`${period}-dunning-${asOf}.json`} data-testid="dunning-download">
          {t('download')}
        </a>
      </summary>
      {list.units.length === 0 ? (
        <p class="muted">{t('empty')}</p>
      ) : (
        <div class="scroll-x">
          <table class="grid">
            <thead>
              <tr>
                <th>{t('unit')}</th>
                <th>{t('company')}</th>
                <th class="num">{t('balance')}</th>
                <th class="num">{t('months')}</th>
                <th>{t('periods')}</th>
              </tr>
            </thead>
            <tbody>
              {list.units.map((u) => (
                <tr key={u.unitId}>
                  <td>{u.unitId}</td>
                  <td>{u.company}</td>
                  <td class="num">{u.balance}</td>
                  <td class="num">{u.monthsInArrears}</td>
                  <td>{u.periods.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}
