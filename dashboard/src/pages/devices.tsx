import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { deviceStatus } from '../building.ts';
import { useResource } from '../components/resource.ts';
import { texts, useT } from '../i18n.ts';
import { useStore } from '../store.ts';
import { fmtDateTime } from '../time.ts';
import {
  busProblem,
  countDevices,
  deviceProblem,
  mergeLive,
  sortBuses,
  sortDevices,
  sortSources,
  sourceProblem,
  type DevicesReply,
} from './devices-model.ts';
import { BusTable, MeterTable, SourceTable } from './devices-tables.tsx';
import './devices.css';

// Devices (#/devices; issue 8): the comm status of every Modbus bus, meter and
// signal source from GET /api/devices, so the control room sees which meter stopped
// answering and why. Reloaded every 10 s and after every reconnect (useResource);
// a meter's status follows the live device.status events in between.

const T = texts({
  loading: ['正在加载设备状态…', 'Loading device status…'],
  failed: ['无法加载设备状态：{m}', 'Cannot load the device status: {m}'],
  buses: ['Modbus 总线', 'Modbus buses'],
  meters: ['表计', 'Meters'],
  sources: ['信号源', 'Signal sources'],
  problems: ['仅显示问题 ({n})', 'Problems only ({n})'],
  all: ['全部 ({n})', 'All ({n})'],
  counts: ['在线 {online} · 离线 {offline} · 未知 {unknown}', '{online} online · {offline} offline · {unknown} unknown'],
  rejected: ['拒收报文 {n} 条', '{n} rejected payloads'],
  rejectedLast: ['最近：{source}，{reason}（{at}）', 'last: {source}, {reason} ({at})'],
  noProblems: ['没有问题。', 'No problems.'],
  updated: ['更新于 {at}', 'Updated {at}'],
});

/** How often the report is reloaded while the page is open (issue 8: every 10 s). */
const RELOAD_MS = 10_000;
/** A burst of live status changes (a bus going down) reloads the report once. */
const LIVE_RELOAD_DELAY_MS = 1_000;

export function DevicesPage(_props: PageProps) {
  const t = useT(T);
  const [only, setOnly] = useState<'all' | 'problems'>('all');
  const [loadedAt, setLoadedAt] = useState<number | undefined>(undefined);
  const report = useResource(async () => {
    const r = await api<DevicesReply>('/api/devices');
    setLoadedAt(Date.now());
    return r;
  }, []);
  const live = useStore(deviceStatus);

  useEffect(() => {
    const timer = setInterval(() => void report.reload(), RELOAD_MS);
    return () => clearInterval(timer);
  }, [report.reload]);

  // The live event carries the status and its error; the report's counters
  // (failures in a row, errors) follow with one reload shortly after.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = deviceStatus.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        void report.reload();
      }, LIVE_RELOAD_DELAY_MS);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [report.reload]);

  const data = report.data;
  const error = report.error && (
    <p class="error" role="alert" data-testid="devices-error">
      {t('failed', { m: `${report.error.message} (${report.error.status || report.error.code})` })}
    </p>
  );
  if (!data) return error ?? <p class="muted">{t('loading')}</p>;

  const devices = sortDevices(mergeLive(data.devices, live));
  const buses = sortBuses(data.buses);
  const sources = sortSources(data.sources);
  const problemCount = devices.filter(deviceProblem).length + buses.filter(busProblem).length + sources.filter(sourceProblem).length;
  const total = devices.length + buses.length + sources.length;
  const show = <X,>(list: X[], problem: (x: X) => boolean) => (only === 'problems' ? list.filter(problem) : list);
  const shownDevices = show(devices, deviceProblem);
  const shownBuses = show(buses, busProblem);
  const shownSources = show(sources, sourceProblem);
  const last = data.rejected.last;

  return (
    <div class="dv" data-testid="devices">
      {error}
      <div class="row dv-bar">
        <div class="dv-filter" role="group">
          <button type="button" class={only === 'problems' ? 'primary' : ''} data-testid="filter-problems" onClick={() => setOnly('problems')}>
            {t('problems', { n: problemCount })}
          </button>
          <button type="button" class={only === 'all' ? 'primary' : ''} data-testid="filter-all" onClick={() => setOnly('all')}>
            {t('all', { n: total })}
          </button>
        </div>
        <span data-testid="device-counts">{t('counts', countDevices(devices))}</span>
        <span class={data.rejected.count ? 'q-stale' : 'muted'} data-testid="rejected" title={last ? t('rejectedLast', { source: last.source, reason: last.reason, at: fmtDateTime(last.at) }) : ''}>
          {t('rejected', { n: data.rejected.count })}
          {last && <> · {t('rejectedLast', { source: last.source, reason: last.reason, at: fmtDateTime(last.at) })}</>}
        </span>
        <span class="grow" />
        <span class="muted">{t('updated', { at: fmtDateTime(loadedAt) })}</span>
      </div>
      {only === 'problems' && problemCount === 0 && <p class="q-good">{t('noProblems')}</p>}
      {shownBuses.length > 0 && (
        <section class="card">
          <h3>{t('buses')}</h3>
          <BusTable buses={shownBuses} />
        </section>
      )}
      {shownSources.length > 0 && (
        <section class="card">
          <h3>{t('sources')}</h3>
          <SourceTable sources={shownSources} />
        </section>
      )}
      {shownDevices.length > 0 && (
        <section class="card">
          <h3>{t('meters')}</h3>
          <MeterTable devices={shownDevices} />
        </section>
      )}
    </div>
  );
}
