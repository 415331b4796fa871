import { useEffect, useState } from 'preact/hooks';
import type { AuditReply } from '../../../gateway/http/api-types.ts';
import { api, ApiError, type Query } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { useResource } from '../components/resource.ts';
import { texts, useT } from '../i18n.ts';
import { useStore } from '../store.ts';
import { buildingZone, fmtDateTime } from '../time.ts';
import { fromLocalInput } from './lobby-time.ts';
import './audit.css';

// 审计日志 (issue 8): who did what to what, newest first, from GET /api/audit
// (gateway/http/api-types.ts AuditReply). Filters by actor, action (a prefix such as
// `alarm.` or `billing.`), subject and a time range typed in the BUILDING's time;
// "older" pages on with the reply's `next`. Every entry's before/after is shown as
// JSON on demand. Supervisors and admins only (audit.read).

const T = texts({
  title: ['审计日志', 'Audit log'],
  actor: ['操作人', 'Actor'],
  action: ['操作（可用前缀，如 alarm.）', 'Action (a prefix such as alarm.)'],
  actionCol: ['操作', 'Action'],
  subject: ['对象', 'Subject'],
  from: ['起（大厦时间）', 'From (building time)'],
  to: ['止（大厦时间）', 'To (building time)'],
  apply: ['查询', 'Search'],
  clear: ['清除', 'Clear'],
  at: ['时间', 'Time'],
  change: ['变更', 'Change'],
  older: ['更早的记录', 'Older entries'],
  end: ['已到最早的记录。', 'No older entries.'],
  none: ['没有符合条件的记录。', 'No entry matches.'],
  loading: ['加载中…', 'Loading…'],
  failed: ['无法读取审计日志：{m}', 'The audit log could not be read: {m}'],
  before: ['变更前', 'before'],
  after: ['变更后', 'after'],
  show: ['查看', 'show'],
  shown: ['共显示 {n} 条', '{n} shown'],
});

interface Filters {
  actor: string;
  action: string;
  subject: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: '', action: '', subject: '', from: '', to: '' };
const PAGE = 50;

function queryOf(f: Filters, zone: string, before?: number): Query {
  return {
    actor: f.actor.trim(),
    action: f.action.trim(),
    subject: f.subject.trim(),
    from: fromLocalInput(f.from, zone),
    to: fromLocalInput(f.to, zone),
    limit: PAGE,
    before,
  };
}

export function AuditPage(_props: PageProps) {
  const t = useT(T);
  const zone = useStore(buildingZone);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const first = useResource(() => api<AuditReply>('/api/audit', { query: queryOf(applied, zone) }), [applied, zone]);
  const [older, setOlder] = useState<AuditReply[]>([]);
  const [olderError, setOlderError] = useState('');
  const [busy, setBusy] = useState(false);
  // A new first page (new filters, a reconnect) starts the paging again.
  useEffect(() => {
    setOlder([]);
    setOlderError('');
  }, [first.data]);

  // After a refusal the last good answer is not shown as if it matched the new filters.
  const pages = first.data && !first.error ? [first.data, ...older] : [];
  const entries = pages.flatMap((p) => p.entries);
  const next = pages.at(-1)?.next;

  async function loadOlder() {
    setBusy(true);
    try {
      const page = await api<AuditReply>('/api/audit', { query: queryOf(applied, zone, next) });
      setOlder((o) => [...o, page]);
      setOlderError('');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setOlderError(t('failed', { m: err.message }));
    } finally {
      setBusy(false);
    }
  }

  const input = (key: keyof Filters, time = false) => {
    const common = { name: key, value: draft[key], 'data-testid': `audit-${key}`, onInput: (e: Event) => setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).value }) };
    return (
      <label>
        {t(key)}
        {time ? <input type="datetime-local" {...common} /> : <input type="text" {...common} />}
      </label>
    );
  };

  return (
    <div class="audit">
      <section class="card">
        <h2>{t('title')}</h2>
        <form
          class="row filters"
          data-testid="audit-filters"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied({ ...draft });
          }}
        >
          {input('actor')}
          {input('action')}
          {input('subject')}
          {input('from', true)}
          {input('to', true)}
          <button type="submit" class="primary" data-testid="audit-apply">
            {t('apply')}
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
            }}
          >
            {t('clear')}
          </button>
        </form>
      </section>
      <section class="card">
        {first.error && (
          <p class="error" role="alert" data-testid="audit-error">
            {t('failed', { m: `${first.error.status ? `${first.error.status} ` : ''}${first.error.message}` })}
          </p>
        )}
        {first.loading && !first.data && !first.error && <p class="muted">{t('loading')}</p>}
        {first.data && !first.error && entries.length === 0 && <p class="muted">{t('none')}</p>}
        {entries.length > 0 && (
          <div class="scroll-x">
            <table class="grid" data-testid="audit-entries" data-loading={String(first.loading)}>
              <thead>
                <tr>
                  <th>{t('at')}</th>
                  <th>{t('actor')}</th>
                  <th>{t('actionCol')}</th>
                  <th>{t('subject')}</th>
                  <th>{t('change')}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-entry={e.id}>
                    <td class="nowrap">{fmtDateTime(e.at)}</td>
                    <td data-testid="actor">{e.actor}</td>
                    <td data-testid="action">
                      <code>{e.action}</code>
                    </td>
                    <td data-testid="subject">{e.subject}</td>
                    <td>
                      <Change label={t('before')} value={e.before} />
                      <Change label={t('after')} value={e.after} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {first.data && !first.error && (
          <div class="row paging">
            <span class="muted" data-testid="audit-count">{t('shown', { n: entries.length })}</span>
            {next !== undefined ? (
              <button type="button" disabled={busy} onClick={() => void loadOlder()} data-testid="audit-older">
                {t('older')}
              </button>
            ) : (
              entries.length > 0 && <span class="muted">{t('end')}</span>
            )}
            {olderError && <span class="error">{olderError}</span>}
          </div>
        )}
      </section>
    </div>
  );
}

/** One side of the change, as indented JSON, opened on demand. */
function Change({ label, value }: { label: string; value: unknown }) {
  if (value === undefined || value === null) return null;
  return (
    <details class="change">
      <summary>{label}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}
