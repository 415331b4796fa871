import { useState } from 'preact/hooks';
import type { ContentTemplate, DisplayItem, ItemInput } from '../../../gateway/display/types.ts';
import { api, ApiError } from '../api.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { buildingZone, toLocalInput, hubNow } from '../time.ts';
import { fromLocalInput, planWeekOf, type ScreenInfo } from './lobby-time.ts';

// Entering lobby content (handbook 第七节 二.1: reception enters next week's content,
// the management office approves it): a new item or a changed one, or one made from
// a handbook template (holiday notice, 附件4 outage notice, pest control). Times are
// the building's. An approved item that is edited goes back for approval.

const T = texts({
  newItem: ['新建内容', 'New item'],
  editItem: ['修改内容 #{id}', 'Edit item #{id}'],
  fromTemplate: ['按模板新建', 'New from a template'],
  titleZh: ['标题（中文）', 'Title (Chinese)'],
  titleEn: ['标题（英文）', 'Title (English)'],
  bodyZh: ['正文（中文）', 'Text (Chinese)'],
  bodyEn: ['正文（英文）', 'Text (English)'],
  screens: ['显示屏', 'Screens'],
  start: ['开始（大厦时间）', 'Start (building time)'],
  end: ['结束（大厦时间）', 'End (building time)'],
  week: ['周计划', 'Plan week'],
  slot: ['本周第几次更换', 'Change of the week'],
  slot1: ['第一次', 'first'],
  slot2: ['第二次', 'second'],
  priority: ['优先级（3 最高 – 9）', 'Priority (3 highest – 9)'],
  urgent: ['紧急临时信息（需主任同意，第七节 二.3）', "Urgent notice (needs the director's consent, 第七节 二.3)"],
  image: ['图片（PNG 或 JPEG，可选）', 'Picture (PNG or JPEG, optional)'],
  removeImage: ['删除现有图片', 'Remove the current picture'],
  template: ['模板', 'Template'],
  saveDraft: ['保存草稿', 'Save draft'],
  saveSubmit: ['保存并提交审批', 'Save and submit'],
  save: ['保存', 'Save'],
  create: ['生成草稿', 'Make draft'],
  cancel: ['取消', 'Cancel'],
  backToPending: ['已批准的内容修改后需重新审批。', 'An approved item goes back for approval when changed.'],
  badTime: ['请填写开始和结束时间。', 'Enter the start and the end.'],
  noScreen: ['请至少选择一个显示屏。', 'Choose at least one screen.'],
});

/** ItemInput's schedule, its times as ISO with the building's offset (the API takes either). */
type Schedule = Omit<ItemInput, 'title' | 'body' | 'image' | 'start' | 'end'> & { start: string; end: string };

interface ScheduleDraft {
  screens: string[];
  start: string;
  end: string;
  planWeek: string;
  planSlot: 1 | 2;
  priority: string;
  urgent: boolean;
}

function draftOf(item: Pick<DisplayItem, 'screens' | 'start' | 'end' | 'planWeek' | 'planSlot' | 'priority' | 'urgent'> | undefined, zone: string, priority = 5): ScheduleDraft {
  if (item) return { screens: item.screens, start: toLocalInput(item.start, zone), end: toLocalInput(item.end, zone), planWeek: item.planWeek, planSlot: item.planSlot, priority: String(item.priority), urgent: item.urgent };
  const start = Math.ceil(hubNow() / 3_600_000) * 3_600_000;
  const end = start + 7 * 86_400_000;
  return { screens: [], start: toLocalInput(start, zone), end: toLocalInput(end, zone), planWeek: planWeekOf(start, zone), planSlot: 1, priority: String(priority), urgent: false };
}

/** The schedule as the API takes it, or the first thing missing. */
function scheduleOf(d: ScheduleDraft, zone: string, t: (k: 'badTime' | 'noScreen') => string): Schedule | string {
  const start = fromLocalInput(d.start, zone);
  const end = fromLocalInput(d.end, zone);
  if (!start || !end) return t('badTime');
  if (d.screens.length === 0) return t('noScreen');
  return { screens: d.screens, start, end, planWeek: d.planWeek, planSlot: d.planSlot, priority: Number(d.priority), urgent: d.urgent };
}

function ScheduleFields({ value, onChange, screens }: { value: ScheduleDraft; onChange: (v: ScheduleDraft) => void; screens: ScreenInfo[] }) {
  const t = useT(T);
  const pick = usePick();
  const zone = buildingZone.get();
  const set = (patch: Partial<ScheduleDraft>) => onChange({ ...value, ...patch });
  return (
    <>
      <fieldset class="screens" data-testid="screens">
        <legend>{t('screens')}</legend>
        {screens.map((s) => (
          <label key={s.id} class="inline">
            <input
              type="checkbox"
              value={s.id}
              checked={value.screens.includes(s.id)}
              onChange={(e) => set({ screens: e.currentTarget.checked ? [...value.screens, s.id] : value.screens.filter((x) => x !== s.id) })}
            />
            {s.location ? `${pick(s.location)} (${s.id})` : s.id}
          </label>
        ))}
      </fieldset>
      <div class="row">
        <label>
          {t('start')}
          <input
            type="datetime-local"
            name="start"
            required
            value={value.start}
            onInput={(e) => {
              const start = e.currentTarget.value;
              const ms = fromLocalInput(start, zone);
              set({ start, ...(ms ? { planWeek: planWeekOf(Date.parse(ms), zone) } : {}) });
            }}
          />
        </label>
        <label>
          {t('end')}
          <input type="datetime-local" name="end" required value={value.end} onInput={(e) => set({ end: e.currentTarget.value })} />
        </label>
        <label>
          {t('week')}
          <input type="week" name="planWeek" required value={value.planWeek} onInput={(e) => set({ planWeek: e.currentTarget.value })} />
        </label>
        <label>
          {t('slot')}
          <select name="planSlot" value={String(value.planSlot)} onChange={(e) => set({ planSlot: e.currentTarget.value === '2' ? 2 : 1 })}>
            <option value="1">{t('slot1')}</option>
            <option value="2">{t('slot2')}</option>
          </select>
        </label>
        <label>
          {t('priority')}
          <input type="number" name="priority" min={value.urgent ? 2 : 3} max={9} step={1} required value={value.priority} onInput={(e) => set({ priority: e.currentTarget.value })} />
        </label>
      </div>
      <label class="inline">
        <input type="checkbox" name="urgent" checked={value.urgent} onChange={(e) => set({ urgent: e.currentTarget.checked })} /> {t('urgent')}
      </label>
    </>
  );
}

interface FormProps {
  screens: ScreenInfo[];
  onClose: () => void;
  onSaved: () => Promise<void> | void;
}

/** A new item (no `item`) or a change to one. */
export function ItemForm({ item, screens, onClose, onSaved }: FormProps & { item?: DisplayItem }) {
  const t = useT(T);
  const zone = buildingZone.get();
  const [text, setText] = useState({ titleZh: item?.title.zh ?? '', titleEn: item?.title.en ?? '', bodyZh: item?.body.zh ?? '', bodyEn: item?.body.en ?? '' });
  const [schedule, setSchedule] = useState(() => draftOf(item, zone));
  const [image, setImage] = useState<ItemInput['image']>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function pickImage(file: File | undefined) {
    if (!file) return setImage(undefined);
    // Sent as base64 in the item (the API's `image`); the hub checks the bytes and the size.
    const url = await new Promise<string>((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    setImage({ mime: file.type === 'image/png' ? 'image/png' : 'image/jpeg', base64: url.slice(url.indexOf(',') + 1) });
  }

  async function save(submit: boolean) {
    const s = scheduleOf(schedule, zone, t);
    if (typeof s === 'string') return setError(s);
    const body = { ...s, title: { zh: text.titleZh, en: text.titleEn }, body: { zh: text.bodyZh, en: text.bodyEn }, ...(image !== undefined ? { image } : {}) };
    setBusy(true);
    try {
      if (item) await api(`/api/display/items/${item.id}`, { method: 'PUT', body });
      else await api('/api/display/items', { method: 'POST', body: { ...body, submit } });
      await onSaved();
      onClose();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  const field = (key: keyof typeof text, label: 'titleZh' | 'titleEn' | 'bodyZh' | 'bodyEn', area = false) => (
    <label>
      {t(label)}
      {area ? (
        <textarea name={key} required value={text[key]} onInput={(e) => setText({ ...text, [key]: e.currentTarget.value })} />
      ) : (
        <input name={key} required value={text[key]} onInput={(e) => setText({ ...text, [key]: e.currentTarget.value })} />
      )}
    </label>
  );

  return (
    <form class="card lobby-form" data-testid="item-form" onSubmit={(e) => (e.preventDefault(), void save(false))}>
      <h3>{item ? t('editItem', { id: item.id }) : t('newItem')}</h3>
      {item?.state === 'approved' && <p class="muted">{t('backToPending')}</p>}
      <div class="two">
        {field('titleZh', 'titleZh')}
        {field('titleEn', 'titleEn')}
        {field('bodyZh', 'bodyZh', true)}
        {field('bodyEn', 'bodyEn', true)}
      </div>
      <ScheduleFields value={schedule} onChange={setSchedule} screens={screens} />
      <div class="row">
        <label>
          {t('image')}
          <input type="file" accept="image/png,image/jpeg" onChange={(e) => void pickImage(e.currentTarget.files?.[0])} />
        </label>
        {item?.image && (
          <label class="inline">
            <input type="checkbox" onChange={(e) => setImage(e.currentTarget.checked ? null : undefined)} /> {t('removeImage')}
          </label>
        )}
      </div>
      {error && <p class="error" role="alert" data-testid="form-error">{error}</p>}
      <div class="row">
        <button type="submit" disabled={busy} class={item ? 'primary' : ''} data-testid="save-draft">
          {item ? t('save') : t('saveDraft')}
        </button>
        {!item && (
          <button type="button" class="primary" disabled={busy} onClick={() => void save(true)} data-testid="save-submit">
            {t('saveSubmit')}
          </button>
        )}
        <button type="button" onClick={onClose}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** A draft from a handbook template: its fields filled in, the schedule chosen. */
export function TemplateForm({ templates, screens, onClose, onSaved }: FormProps & { templates: ContentTemplate[] }) {
  const t = useT(T);
  const pick = usePick();
  const zone = buildingZone.get();
  const [id, setId] = useState(templates[0]?.id ?? '');
  const template = templates.find((x) => x.id === id);
  const [values, setValues] = useState<Record<string, string>>({});
  const [schedule, setSchedule] = useState(() => draftOf(undefined, zone, templates[0]?.priority));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function save(event: Event) {
    event.preventDefault();
    const s = scheduleOf(schedule, zone, t);
    if (typeof s === 'string') return setError(s);
    setBusy(true);
    try {
      await api('/api/display/items/from-template', { method: 'POST', body: { ...s, template: id, values } });
      await onSaved();
      onClose();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card lobby-form" data-testid="template-form" onSubmit={save}>
      <h3>{t('fromTemplate')}</h3>
      <label>
        {t('template')}
        <select
          name="template"
          value={id}
          onChange={(e) => {
            const next = templates.find((x) => x.id === e.currentTarget.value);
            setId(e.currentTarget.value);
            if (next) setSchedule({ ...schedule, priority: String(next.priority) });
          }}
        >
          {templates.map((x) => (
            <option key={x.id} value={x.id}>
              {pick(x.name)} ({x.handbook})
            </option>
          ))}
        </select>
      </label>
      <div class="two">
        {template?.fields.map((f) => (
          <label key={`${id}/${f.id}`}>
            {pick(f.label)}
            <input name={f.id} required={f.required} value={values[f.id] ?? ''} onInput={(e) => setValues({ ...values, [f.id]: e.currentTarget.value })} />
          </label>
        ))}
      </div>
      <ScheduleFields value={schedule} onChange={setSchedule} screens={screens} />
      {error && <p class="error" role="alert" data-testid="form-error">{error}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {t('create')}
        </button>
        <button type="button" onClick={onClose}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
