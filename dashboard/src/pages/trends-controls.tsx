import { useEffect, useState } from 'preact/hooks';
import { texts, useT } from '../i18n.ts';
import { parseLocalInput, toLocalInput, hubNow } from '../time.ts';
import { PERIODS, windowProblem, type PeriodId, type TimeWindow } from './trends-model.ts';

// The trends page's time controls (issue 8): the period presets, a custom
// from/to in the building's time, panning by half the window, and the way back
// from a zoom.

const T = texts({
  '1h': ['1 小时', '1 h'],
  '6h': ['6 小时', '6 h'],
  '24h': ['24 小时', '24 h'],
  '7d': ['7 天', '7 d'],
  '30d': ['30 天', '30 d'],
  from: ['从', 'From'],
  to: ['到', 'To'],
  apply: ['查看', 'Show'],
  earlier: ['向前', 'Earlier'],
  later: ['向后', 'Later'],
  reset: ['还原缩放', 'Reset zoom'],
  invalid: ['请输入完整的起止时间', 'Enter both times'],
  order: ['开始时间须早于结束时间', 'The start must be before the end'],
  long: ['时间段不能超过 366 天', 'The period cannot be longer than 366 days'],
});

export interface TimeControlsProps {
  period: PeriodId | 'custom';
  /** The window on screen (the period, or the zoomed/panned part of it). */
  shown: TimeWindow;
  zoomed: boolean;
  zone: string;
  onPeriod: (p: PeriodId) => void;
  onCustom: (win: TimeWindow) => void;
  onPan: (direction: -1 | 1) => void;
  onReset: () => void;
}

export function TimeControls(p: TimeControlsProps) {
  const t = useT(T);
  const [from, setFrom] = useState(toLocalInput(p.shown.from, p.zone));
  const [to, setTo] = useState(toLocalInput(p.shown.to, p.zone));
  const [problem, setProblem] = useState<ReturnType<typeof windowProblem>>(undefined);
  // The inputs follow what is shown, so a custom period starts from the current view.
  useEffect(() => {
    setFrom(toLocalInput(p.shown.from, p.zone));
    setTo(toLocalInput(p.shown.to, p.zone));
  }, [p.shown.from, p.shown.to, p.zone]);

  function apply(event: Event) {
    event.preventDefault();
    const a = parseLocalInput(from, p.zone);
    const b = parseLocalInput(to, p.zone);
    const win = a !== undefined && b !== undefined ? { from: a, to: b } : undefined;
    const why = windowProblem(win);
    setProblem(why);
    if (!why) p.onCustom(win!);
  }

  const atNow = p.shown.to >= hubNow() - 1000;
  return (
    <div class="tr-controls">
      <div class="tr-periods" role="group">
        {PERIODS.map((x) => (
          <button key={x.id} type="button" data-period={x.id} class={p.period === x.id ? 'primary' : ''} onClick={() => p.onPeriod(x.id)}>
            {t(x.id)}
          </button>
        ))}
      </div>
      <form class="tr-custom" onSubmit={apply}>
        <label>
          {t('from')}
          <input type="datetime-local" data-testid="custom-from" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          {t('to')}
          <input type="datetime-local" data-testid="custom-to" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button type="submit" data-testid="custom-apply" class={p.period === 'custom' ? 'primary' : ''}>
          {t('apply')}
        </button>
        {problem && (
          <span class="error" role="alert" data-testid="custom-error">
            {t(problem)}
          </span>
        )}
      </form>
      <div class="tr-pan" role="group">
        <button type="button" data-testid="pan-earlier" title={t('earlier')} aria-label={t('earlier')} onClick={() => p.onPan(-1)}>
          ◀
        </button>
        <button type="button" data-testid="pan-later" title={t('later')} aria-label={t('later')} disabled={atNow} onClick={() => p.onPan(1)}>
          ▶
        </button>
        <button type="button" data-testid="reset-zoom" disabled={!p.zoomed} onClick={p.onReset}>
          {t('reset')}
        </button>
      </div>
    </div>
  );
}
