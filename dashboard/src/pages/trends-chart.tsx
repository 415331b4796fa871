import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtDateTime } from '../time.ts';
import { MINUTE, type TimeWindow, type Trend } from './trends-model.ts';

// The trend chart (issue 8): uPlot, time on the x axis in the building's zone
// (tzDate), one y axis per engineering unit (kWh left, m³ right), the legend
// showing the values under the cursor. Dragging across the plot zooms: the page
// loads the chosen window again at the resolution that fits it.

/** Series colours, in the order meters were picked (the picker's chips use the same). */
export const COLOURS = ['#4ea1ff', '#f0883e', '#d2a8ff', '#3fb950'] as const;

const AXIS = { stroke: '#8b9aab', grid: { stroke: '#2e3b4a', width: 1 }, ticks: { stroke: '#2e3b4a', width: 1 } };
const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export interface TrendChartProps {
  trend: Trend;
  zone: string;
  timeLabel: string;
  onZoom: (win: TimeWindow) => void;
}

export function TrendChart({ trend, zone, timeLabel, onZoom }: TrendChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = box.current!;
    const opts = chartOptions(trend, zone, timeLabel, sizeOf(el), (win) => zoom.current(win));
    const plot = new uPlot(opts, alignedData(trend), el);
    let width = el.clientWidth;
    const resize = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      plot.setSize(sizeOf(el));
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [trend, zone, timeLabel]);

  return <div ref={box} class="tr-plot" />;
}

/** Wide on a wall, still readable on a phone. */
function sizeOf(el: HTMLElement): { width: number; height: number } {
  const width = Math.max(280, el.clientWidth);
  return { width, height: Math.round(Math.min(520, Math.max(240, width * 0.42))) };
}

/** uPlot's columns: x in seconds, one column per meter, joined on x (a series lacks the others' times). */
export function alignedData(trend: Trend): uPlot.AlignedData {
  const tables: uPlot.AlignedData[] = trend.lines.map((l) => [l.points.map((p) => p[0] / 1000), l.points.map((p) => p[1])]);
  if (tables.length === 1) return tables[0]!;
  return uPlot.join(tables);
}

function chartOptions(trend: Trend, zone: string, timeLabel: string, size: { width: number; height: number }, onZoom: (win: TimeWindow) => void): uPlot.Options {
  const units = [...new Set(trend.lines.map((l) => l.meter.unit || '-'))];
  const localDate = (s: number) => uPlot.tzDate(new Date(s * 1000), zone);
  // On a phone the plot keeps its width: narrower y axes, the unit only in the legend.
  const compact = size.width < 600;
  return {
    ...size,
    tzDate: (s) => localDate(s),
    scales: {
      // The whole window, also where it holds no data, so a gap shows as one.
      x: { time: true, auto: false, range: () => [trend.window.from / 1000, trend.window.to / 1000] },
    },
    series: [
      { label: timeLabel, value: (_u, v) => (v === null ? '—' : fmtDateTime(v * 1000)) },
      ...trend.lines.map((l, i) => ({
        label: `${l.meter.unitId} · ${l.meter.id} (${l.meter.unit})`,
        scale: l.meter.unit || '-',
        stroke: COLOURS[i % COLOURS.length]!,
        width: 2,
        spanGaps: true,
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : `${numberFormat.format(v)} ${l.meter.unit}`),
      })),
    ],
    axes: [
      { ...AXIS, values: (_u, splits, _axis, _space, incr) => splits.map((s) => timeTick(localDate(s), incr)) },
      ...units.map((unit, i) => ({
        ...AXIS,
        scale: unit,
        side: i % 2 === 0 ? 3 : 1,
        size: valueWidth,
        ...(compact ? {} : { label: unit }),
        grid: { ...AXIS.grid, show: i === 0 },
      })),
    ],
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: {
      setSelect: [
        (u) => {
          const { left, width } = u.select;
          if (width >= 4) {
            const from = u.posToVal(left, 'x') * 1000;
            const to = u.posToVal(left + width, 'x') * 1000;
            // Not narrower than a minute: the API's finest step is a raw point.
            const mid = (from + to) / 2;
            onZoom(to - from >= MINUTE ? { from, to } : { from: mid - MINUTE / 2, to: mid + MINUTE / 2 });
          }
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        },
      ],
    },
  };
}

/** A y axis as wide as its longest value label (about 7 px a character at uPlot's 12 px axis font), so none is cut. */
function valueWidth(_u: uPlot, values: string[] | null): number {
  const longest = Math.max(3, ...(values ?? []).map((v) => String(v).length));
  return longest * 7 + 16;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 24-hour building time: a date on a day tick or at midnight, else hours and minutes (seconds when finer). */
function timeTick(d: Date, incrSeconds: number): string {
  const date = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (incrSeconds >= 86_400 || (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0)) return date;
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return incrSeconds < 60 ? `${hm}:${pad(d.getSeconds())}` : hm;
}
