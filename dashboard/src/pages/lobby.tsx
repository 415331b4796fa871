import { useEffect, useState } from 'preact/hooks';
import type { ContentTemplate, DisplayItem, ItemState } from '../../../gateway/display/types.ts';
import { api, ApiError } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { site } from '../building.ts';
import { ActionDialog } from '../components/action-dialog.tsx';
import { useResource } from '../components/resource.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { onLive } from '../live.ts';
import { useCan } from '../session.ts';
import { useStore } from '../store.ts';
import { buildingZone, fmtDateTime, hubNow } from '../time.ts';
import { ItemForm, TemplateForm } from './lobby-form.tsx';
import { EmergencyTemplates, ScreenPreviews } from './lobby-preview.tsx';
import { planWeekOf, screensOf } from './lobby-time.ts';
import './lobby.css';

// 大堂屏幕 (issue 8 over issue 9's API; handbook 第七节 二): the content items by state
// and weekly plan, entered by reception (display.edit) and approved by the
// management office (display.approve); the emergency messages approved in advance;
// and what each screen shows now. Each role sees only the controls it may use.

const STATES = ['draft', 'pending', 'approved', 'expired', 'withdrawn'] as const satisfies readonly ItemState[];

const T = texts({
  items: ['屏幕内容', 'Screen content'],
  all: ['全部', 'All'],
  draft: ['草稿', 'Draft'],
  pending: ['待审批', 'Pending'],
  approved: ['已批准', 'Approved'],
  expired: ['已过期', 'Expired'],
  withdrawn: ['已撤下', 'Withdrawn'],
  week: ['周计划', 'Plan week'],
  thisWeek: ['本周', 'This week'],
  nextWeek: ['下周', 'Next week'],
  allWeeks: ['所有周', 'All weeks'],
  newItem: ['新建内容', 'New item'],
  fromTemplate: ['按模板新建', 'From a template'],
  none: ['没有符合条件的内容。', 'No item matches.'],
  id: ['编号', 'No.'],
  title: ['标题', 'Title'],
  screens: ['显示屏', 'Screens'],
  window: ['显示时段', 'Window'],
  plan: ['计划', 'Plan'],
  priority: ['优先级', 'Priority'],
  state: ['状态', 'State'],
  by: ['录入 / 批准', 'Entered / approved'],
  actions: ['操作', 'Actions'],
  edit: ['修改', 'Edit'],
  submit: ['提交审批', 'Submit'],
  approve: ['批准', 'Approve'],
  reject: ['退回', 'Reject'],
  withdraw: ['撤下', 'Withdraw'],
  urgent: ['紧急', 'urgent'],
  history: ['记录', 'History'],
  approveTitle: ['批准内容 #{id}', 'Approve item #{id}'],
  rejectTitle: ['退回内容 #{id}', 'Reject item #{id}'],
  withdrawTitle: ['撤下内容 #{id}', 'Withdraw item #{id}'],
  note: ['说明（可选）', 'Note (optional)'],
  reason: ['原因（记入记录和审计日志）', 'Reason (kept in the history and the audit log)'],
  director: ['同意的管理处主任', 'Director who consented'],
  consent: ['同意方式（如：电话 14:05）', 'How (e.g. by phone 14:05)'],
  urgentNeeds: ['紧急临时信息须经管理处主任同意（第七节 二.3）。', "An urgent notice needs the director's consent (第七节 二.3)."],
});

type Dialog = { kind: 'approve' | 'reject' | 'withdraw'; item: DisplayItem };

export function LobbyPage(_props: PageProps) {
  const t = useT(T);
  const can = useCan();
  const tree = useStore(site);
  const zone = useStore(buildingZone);
  const [state, setState] = useState<ItemState | ''>('');
  const [week, setWeek] = useState('');
  const [form, setForm] = useState<{ kind: 'item'; item?: DisplayItem } | { kind: 'template' }>();
  const [dialog, setDialog] = useState<Dialog>();
  const [error, setError] = useState('');
  // Every item, filtered here: the counts by state and the screens come from the whole list.
  const items = useResource(() => api<{ items: DisplayItem[] }>('/api/display/items'), []);
  const templates = useResource(() => (can('display.edit') ? api<{ templates: ContentTemplate[] }>('/api/display/templates') : Promise.resolve({ templates: [] })), []);
  const { reload } = items;
  useEffect(() => onLive('display.changed', () => void reload()), [reload]);

  const all = items.data?.items ?? [];
  const screens = screensOf(tree);
  const inWeek = all.filter((i) => !week || i.planWeek === week);
  const shown = inWeek.filter((i) => !state || i.state === state).sort((a, b) => b.id - a.id);
  const thisWeek = planWeekOf(hubNow(), zone);
  const nextWeek = planWeekOf(hubNow() + 7 * 86_400_000, zone);

  async function act(item: DisplayItem, action: 'submit') {
    try {
      await api(`/api/display/items/${item.id}/${action}`, { method: 'POST' });
      setError('');
      await reload();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err.message);
    }
  }

  return (
    <div class="lobby-admin">
      <section class="card">
        <div class="row">
          <h2 class="grow">{t('items')}</h2>
          {can('display.edit') && (
            <>
              <button type="button" class="primary" data-testid="new-item" onClick={() => setForm({ kind: 'item' })}>
                {t('newItem')}
              </button>
              <button type="button" data-testid="new-from-template" onClick={() => setForm({ kind: 'template' })}>
                {t('fromTemplate')}
              </button>
            </>
          )}
        </div>
        <div class="row filters">
          <div class="tabs" role="tablist" data-testid="state-filter">
            {(['', ...STATES] as const).map((s) => (
              <button key={s || 'all'} type="button" role="tab" aria-selected={state === s} class={state === s ? 'active' : ''} data-state={s || 'all'} onClick={() => setState(s)}>
                {t(s || 'all')} <span class="muted">{s ? inWeek.filter((i) => i.state === s).length : inWeek.length}</span>
              </button>
            ))}
          </div>
          <label class="inline">
            {t('week')}
            <input type="week" value={week} data-testid="week-filter" onInput={(e) => setWeek(e.currentTarget.value)} />
          </label>
          <button type="button" class="link" onClick={() => setWeek(thisWeek)}>{t('thisWeek')}</button>
          <button type="button" class="link" onClick={() => setWeek(nextWeek)}>{t('nextWeek')}</button>
          <button type="button" class="link" onClick={() => setWeek('')}>{t('allWeeks')}</button>
        </div>
        {form?.kind === 'item' && <ItemForm key={form.item?.id ?? 'new'} item={form.item} screens={screens} onClose={() => setForm(undefined)} onSaved={reload} />}
        {form?.kind === 'template' && templates.data && <TemplateForm templates={templates.data.templates} screens={screens} onClose={() => setForm(undefined)} onSaved={reload} />}
        {(items.error ?? templates.error) && <p class="error">{(items.error ?? templates.error)!.message}</p>}
        {error && <p class="error" role="alert">{error}</p>}
        {items.data && shown.length === 0 && <p class="muted">{t('none')}</p>}
        {shown.length > 0 && <ItemsTable items={shown} onEdit={(item) => setForm({ kind: 'item', item })} onSubmit={(item) => void act(item, 'submit')} onDialog={setDialog} />}
      </section>
      <ScreenPreviews screens={screens} />
      <EmergencyTemplates />
      {dialog && <ItemDialog dialog={dialog} onClose={() => setDialog(undefined)} onDone={reload} />}
    </div>
  );
}

function ItemsTable({ items, onEdit, onSubmit, onDialog }: { items: DisplayItem[]; onEdit: (i: DisplayItem) => void; onSubmit: (i: DisplayItem) => void; onDialog: (d: Dialog) => void }) {
  const t = useT(T);
  const pick = usePick();
  const can = useCan();
  const live = (i: DisplayItem) => i.state === 'draft' || i.state === 'pending' || i.state === 'approved';
  const mayAct = can('display.edit') || can('display.approve');
  return (
    <div class="scroll-x">
      <table class="grid items" data-testid="items">
        <thead>
          <tr>
            <th class="num">{t('id')}</th>
            <th>{t('title')}</th>
            <th>{t('screens')}</th>
            <th>{t('window')}</th>
            <th>{t('plan')}</th>
            <th class="num">{t('priority')}</th>
            <th>{t('state')}</th>
            <th>{t('by')}</th>
            {mayAct && <th>{t('actions')}</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id} data-item={i.id} data-state={i.state}>
              <td class="num">{i.id}</td>
              <td>
                <strong>{pick(i.title)}</strong>
                {i.urgent && <span class="badge urgent"> {t('urgent')}</span>}
                <details>
                  <summary class="muted">{t('history')}</summary>
                  <ul class="history">
                    {i.history.map((h, n) => (
                      <li key={n}>
                        {fmtDateTime(h.at)} {h.by}: {h.action}
                        {h.note ? ` — ${h.note}` : ''}
                      </li>
                    ))}
                  </ul>
                </details>
              </td>
              <td>{i.screens.join(', ')}</td>
              <td>
                {fmtDateTime(i.start)} – {fmtDateTime(i.end)}
              </td>
              <td>
                {i.planWeek} / {i.planSlot}
              </td>
              <td class="num">{i.priority}</td>
              <td>
                <span class={`badge item-${i.state}`}>{t(i.state)}</span>
              </td>
              <td>
                {i.createdBy}
                {i.approvedBy && ` / ${i.approvedBy}`}
              </td>
              {mayAct && (
                <td class="actions">
                  {can('display.edit') && live(i) && (
                    <button type="button" data-testid="edit" onClick={() => onEdit(i)}>
                      {t('edit')}
                    </button>
                  )}
                  {can('display.edit') && i.state === 'draft' && (
                    <button type="button" data-testid="submit" onClick={() => onSubmit(i)}>
                      {t('submit')}
                    </button>
                  )}
                  {can('display.approve') && i.state === 'pending' && (
                    <>
                      <button type="button" class="primary" data-testid="approve" onClick={() => onDialog({ kind: 'approve', item: i })}>
                        {t('approve')}
                      </button>
                      <button type="button" data-testid="reject" onClick={() => onDialog({ kind: 'reject', item: i })}>
                        {t('reject')}
                      </button>
                    </>
                  )}
                  {live(i) && (
                    <button type="button" class="danger" data-testid="withdraw" onClick={() => onDialog({ kind: 'withdraw', item: i })}>
                      {t('withdraw')}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ItemDialog({ dialog, onClose, onDone }: { dialog: Dialog; onClose: () => void; onDone: () => Promise<void> }) {
  const t = useT(T);
  const { kind, item } = dialog;
  const url = `/api/display/items/${item.id}/${kind}`;
  return (
    <ActionDialog
      title={t(`${kind}Title`, { id: item.id })}
      submitLabel={t(kind)}
      danger={kind !== 'approve'}
      testId={`${kind}-dialog`}
      onClose={onClose}
      onSubmit={async (v) => {
        const body =
          kind === 'approve'
            ? { ...(v.note ? { note: v.note } : {}), ...(item.urgent ? { directorConsent: { director: v.director, note: v.consent } } : {}) }
            : { reason: v.reason };
        await api(url, { method: 'POST', body });
        await onDone();
      }}
    >
      {kind === 'approve' ? (
        <>
          {item.urgent && <p class="muted">{t('urgentNeeds')}</p>}
          {item.urgent && (
            <>
              <label>
                {t('director')}
                <input name="director" required />
              </label>
              <label>
                {t('consent')}
                <input name="consent" required />
              </label>
            </>
          )}
          <label>
            {t('note')}
            <textarea name="note" />
          </label>
        </>
      ) : (
        <label>
          {t('reason')}
          <textarea name="reason" required />
        </label>
      )}
    </ActionDialog>
  );
}
