import { useState } from 'preact/hooks';
import type { SiteReply } from '../building.ts';
import { texts, useT } from '../i18n.ts';
import { COLOURS } from './trends-chart.tsx';
import { MAX_METERS, searchUnits, type SiteMeter } from './trends-model.ts';

// The trends page's meter picker (issue 8): the picked meters as chips in their
// series colour, and a search by unit id or tenant that lists the matching units'
// meters to add, up to MAX_METERS.

const T = texts({
  search: ['按单元号或租户搜索表计…', 'Search meters by unit or tenant…'],
  remove: ['移除 {m}', 'Remove {m}'],
  full: ['最多比较 {n} 个表计', 'Compare at most {n} meters'],
  none: ['没有匹配的单元', 'No matching unit'],
  electricity: ['电', 'electricity'],
  water: ['水', 'water'],
  vacant: ['空置', 'vacant'],
});

export interface MeterPickerProps {
  tree: SiteReply | undefined;
  selected: SiteMeter[];
  onChange: (ids: string[]) => void;
}

export function MeterPicker({ tree, selected, onChange }: MeterPickerProps) {
  const t = useT(T);
  const [text, setText] = useState('');
  const ids = selected.map((m) => m.id);
  const full = ids.length >= MAX_METERS;
  const found = searchUnits(tree, text);
  return (
    <div class="tr-picker">
      <div class="row">
        {selected.map((m, i) => (
          <span key={m.id} class="tr-chip" data-testid="selected-meter" data-meter={m.id}>
            <i class="tr-swatch" style={{ background: COLOURS[i % COLOURS.length] }} />
            {m.unitId} · {m.id}
            <button type="button" class="link" title={t('remove', { m: m.id })} aria-label={t('remove', { m: m.id })} onClick={() => onChange(ids.filter((x) => x !== m.id))}>
              ×
            </button>
          </span>
        ))}
        <input
          type="search"
          class="tr-search"
          data-testid="meter-search"
          placeholder={t('search')}
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        {full && <span class="muted">{t('full', { n: MAX_METERS })}</span>}
      </div>
      {text.trim() && (
        <ul class="tr-results" data-testid="meter-results">
          {found.length === 0 && <li class="muted">{t('none')}</li>}
          {found.map((u) => (
            <li key={u.id} data-unit={u.id}>
              <b>{u.id}</b> <span class="muted">{u.tenant?.company ?? t('vacant')}</span>
              {u.meters.map((m) => (
                <button
                  key={m.id}
                  type="button"
                  data-add-meter={m.id}
                  disabled={full || ids.includes(m.id)}
                  onClick={() => {
                    onChange([...ids, m.id]);
                    setText('');
                  }}
                >
                  + {t(m.kind)} {m.id}
                </button>
              ))}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
