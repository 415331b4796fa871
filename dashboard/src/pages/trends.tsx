import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { site } from '../building.ts';
import { texts, useT } from '../i18n.ts';
import { onResync } from '../live.ts';
import { navigate } from '../router.ts';
import { useStore } from '../store.ts';
import { buildingZone, fmtDateTime, hubNow } from '../time.ts';
import { TrendChart } from './trends-chart.tsx';
import { TimeControls } from './trends-controls.tsx';
import { loadTrend, MAX_METERS, meterIndex, PERIODS, type PeriodId, type SiteMeter, type TimeWindow, type Trend } from './trends-model.ts';
import { MeterPicker } from './trends-picker.tsx';
import './trends.css';

// Trends (#/trends/<meterId>[/<meterId2>...]; issue 8): the billing point of up
// to four meters from the telemetry store, over a period, zoomable and pannable,
// in the building's time.

const T = texts({
  loading: ['正在加载…', 'Loading…'],
  pick: ['请在上方选择表计（最多 {n} 个）进行比较。', 'Pick up to {n} meters above to compare.'],
  unknown: ['未知表计：{ids}', 'Unknown meters: {ids}'],
  failed: ['无法加载趋势：{m}', 'Cannot load the trend: {m}'],
  empty: ['此时间段内没有数据', 'No data in this period'],
  raw: ['原始数据', 'raw points'],
  mean: ['{every} 平均值', '{every} means'],
  time: ['时间', 'Time'],
});

interface TrendState {
  trend?: Trend;
  error?: ApiError;
  loading: boolean;
}

/** Loads the window again after a reconnect; an answer for a window no longer asked for is dropped. */
function useTrend(meters: SiteMeter[], win: TimeWindow): TrendState {
  const [state, setState] = useState<TrendState>({ loading: true });
  const key = `${meters.map((m) => m.id).join(',')}|${win.from}|${win.to}`;
  useEffect(() => {
    if (meters.length === 0) return setState({ loading: false });
    let current = true;
    const load = async () => {
      setState((s) => ({ ...s, loading: true }));
      try {
        const trend = await loadTrend(meters, win);
        if (current) setState({ trend, loading: false });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (current) setState({ error: err, loading: false });
      }
    };
    const off = onResync(load);
    return () => {
      current = false;
      off();
    };
  }, [key]);
  return state;
}

const lastPeriod = (id: PeriodId): TimeWindow => {
  const to = hubNow();
  return { from: to - PERIODS.find((p) => p.id === id)!.ms, to };
};

export function TrendsPage({ params }: PageProps) {
  const t = useT(T);
  const tree = useStore(site);
  const zone = useStore(buildingZone);
  const [base, setBase] = useState<{ period: PeriodId | 'custom'; win: TimeWindow }>(() => ({ period: '6h', win: lastPeriod('6h') }));
  const [view, setView] = useState<TimeWindow | undefined>(undefined);

  const index = meterIndex(tree);
  const ids = [...new Set(params)].slice(0, MAX_METERS);
  const meters = ids.map((id) => index.get(id)).filter((m): m is SiteMeter => m !== undefined);
  const unknown = tree ? ids.filter((id) => !index.has(id)) : [];
  const shown = view ?? base.win;
  const state = useTrend(tree ? meters : [], shown);

  const pan = (direction: -1 | 1) => {
    const half = ((shown.to - shown.from) / 2) * direction;
    // Not past now: there is nothing to see in the future; the width stays.
    const over = Math.max(0, shown.to + half - Math.max(hubNow(), shown.to));
    setView({ from: shown.from + half - over, to: shown.to + half - over });
  };

  return (
    <div class="tr" data-testid="trends">
      <MeterPicker tree={tree} selected={meters} onChange={(next) => navigate('trends', ...next)} />
      <TimeControls
        period={base.period}
        shown={shown}
        zoomed={view !== undefined}
        zone={zone}
        onPeriod={(p) => {
          setBase({ period: p, win: lastPeriod(p) });
          setView(undefined);
        }}
        onCustom={(win) => {
          setBase({ period: 'custom', win });
          setView(undefined);
        }}
        onPan={pan}
        onReset={() => setView(undefined)}
      />
      {unknown.length > 0 && <p class="error">{t('unknown', { ids: unknown.join(', ') })}</p>}
      {!tree ? (
        <p class="muted">{t('loading')}</p>
      ) : meters.length === 0 ? (
        <p class="muted">{t('pick', { n: MAX_METERS })}</p>
      ) : (
        <ChartPanel state={state} shown={shown} zone={zone} onZoom={setView} />
      )}
    </div>
  );
}

function ChartPanel({ state, shown, zone, onZoom }: { state: TrendState; shown: TimeWindow; zone: string; onZoom: (w: TimeWindow) => void }) {
  const t = useT(T);
  const { trend, error, loading } = state;
  const empty = trend !== undefined && trend.lines.every((l) => l.points.length === 0);
  return (
    <section class="card tr-panel">
      <div class="row tr-status">
        <span data-testid="trend-window">
          {fmtDateTime(shown.from)} — {fmtDateTime(shown.to)}
        </span>
        {trend && <span class="muted">{trend.every ? t('mean', { every: trend.every }) : t('raw')}</span>}
        {loading && <span class="muted">{t('loading')}</span>}
      </div>
      {error && (
        <p class="error" role="alert" data-testid="trend-error">
          {t('failed', { m: error.message })}
        </p>
      )}
      <div
        class="tr-chart"
        data-testid="trend-chart"
        data-points={trend ? trend.lines.map((l) => l.points.length).join(',') : ''}
        data-from={trend?.window.from}
        data-to={trend?.window.to}
        data-every={trend ? (trend.every ?? 'raw') : ''}
      >
        {empty && (
          <p class="tr-empty muted" data-testid="trend-empty">
            {t('empty')}
          </p>
        )}
        {trend && !empty && <TrendChart trend={trend} zone={zone} timeLabel={t('time')} onZoom={onZoom} />}
      </div>
    </section>
  );
}
