import { texts, useT } from '../i18n.ts';
import { href } from '../router.ts';
import { fmtDateTime } from '../time.ts';
import type { BusReport, DeviceReport, SourceReport } from './devices-model.ts';

// The three tables of the devices page (issue 8): Modbus buses, meters and signal
// sources, each row coloured by its comm status (st-* classes in style.css).

const T = texts({
  bus: ['总线', 'Bus'],
  transport: ['传输', 'Transport'],
  connected: ['连接', 'Link'],
  yes: ['已连接', 'connected'],
  no: ['未连接', 'disconnected'],
  requests: ['请求', 'Requests'],
  errors: ['错误', 'Errors'],
  lastError: ['最近错误', 'Last error'],
  cycles: ['轮询周期', 'Cycles'],
  lastCycle: ['上周期 ms', 'Last cycle ms'],
  meter: ['表计', 'Meter'],
  unit: ['单元', 'Unit'],
  kind: ['类型', 'Kind'],
  electricity: ['电表', 'electricity'],
  water: ['水表', 'water'],
  status: ['状态', 'Status'],
  online: ['在线', 'online'],
  offline: ['离线', 'offline'],
  unknown: ['未知', 'unknown'],
  failures: ['连续失败', 'Failures in a row'],
  lastErrorAt: ['错误时间', 'Error at'],
  lastGood: ['最近成功读取', 'Last good read'],
  source: ['信号源', 'Source'],
  via: ['判定依据', 'Via'],
  reason: ['原因', 'Reason'],
  since: ['自', 'Since'],
  none: ['无', 'none'],
});

export function BusTable({ buses }: { buses: BusReport[] }) {
  const t = useT(T);
  return (
    <div class="dv-scroll">
      <table class="grid" data-testid="bus-table">
        <thead>
          <tr>
            <th>{t('bus')}</th>
            <th>{t('transport')}</th>
            <th>{t('connected')}</th>
            <th class="num">{t('requests')}</th>
            <th class="num">{t('errors')}</th>
            <th>{t('lastError')}</th>
            <th class="num">{t('cycles')}</th>
            <th class="num">{t('lastCycle')}</th>
          </tr>
        </thead>
        <tbody>
          {buses.map((b) => (
            <tr key={b.id} data-bus={b.id} data-status={b.connected ? 'online' : 'offline'}>
              <td>{b.id}</td>
              <td>{b.transport}</td>
              <td class={b.connected ? 'st-online' : 'st-offline'}>{t(b.connected ? 'yes' : 'no')}</td>
              <td class="num">{b.requests}</td>
              <td class={`num${b.errors ? ' q-stale' : ''}`}>{b.errors}</td>
              <td class="dv-err">{b.lastError ?? ''}</td>
              <td class="num">{b.cycles}</td>
              <td class="num">{b.lastCycleMs ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MeterTable({ devices }: { devices: DeviceReport[] }) {
  const t = useT(T);
  return (
    <div class="dv-scroll">
      <table class="grid" data-testid="meter-table">
        <thead>
          <tr>
            <th>{t('meter')}</th>
            <th>{t('bus')}</th>
            <th>{t('unit')}</th>
            <th>{t('kind')}</th>
            <th>{t('status')}</th>
            <th class="num">{t('failures')}</th>
            <th class="num">{t('errors')}</th>
            <th>{t('lastError')}</th>
            <th>{t('lastErrorAt')}</th>
            <th>{t('lastGood')}</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.id} data-device={d.id} data-status={d.status}>
              <td>
                <a href={href('trends', d.id)}>{d.id}</a>
              </td>
              <td>{d.bus}</td>
              <td>{d.unit}</td>
              <td>{t(d.kind)}</td>
              <td>
                <span class={`badge st-${d.status}`} data-testid="device-status">
                  {t(d.status)}
                </span>
              </td>
              <td class={`num${d.consecutiveFailures ? ' q-bad' : ''}`}>{d.consecutiveFailures}</td>
              <td class="num">{d.errors}</td>
              <td class="dv-err">{d.lastError ?? ''}</td>
              <td class="dv-time">{d.lastErrorAt ? fmtDateTime(d.lastErrorAt) : ''}</td>
              <td class="dv-time">{fmtDateTime(d.lastGoodAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SourceTable({ sources }: { sources: SourceReport[] }) {
  const t = useT(T);
  if (sources.length === 0) return <p class="muted">{t('none')}</p>;
  return (
    <div class="dv-scroll">
      <table class="grid" data-testid="source-table">
        <thead>
          <tr>
            <th>{t('source')}</th>
            <th>{t('status')}</th>
            <th>{t('via')}</th>
            <th>{t('reason')}</th>
            <th>{t('since')}</th>
          </tr>
        </thead>
        <tbody>
          {sources.map((s) => (
            <tr key={s.source} data-source={s.source} data-status={s.status}>
              <td>{s.source}</td>
              <td>
                <span class={`badge st-${s.status}`}>{t(s.status)}</span>
              </td>
              <td>{s.via}</td>
              <td class="dv-err">{s.reason ?? ''}</td>
              <td class="dv-time">{fmtDateTime(s.at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
