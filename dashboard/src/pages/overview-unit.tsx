import type { DeviceStatus, PointValue } from '../../../gateway/events.ts';
import { pointKey } from '../building.ts';
import { texts, useT, type Translate } from '../i18n.ts';
import { href } from '../router.ts';
import { fmtDateTime } from '../time.ts';
import { commOf, fmtValue, type Meter, type Unit } from './overview-model.ts';

// One unit of the building overview: a compact chip with the tenant and each
// meter's billing-point value, coloured by its quality, next to the meter's comm
// status. A click opens the trend of the unit's meters (issue 8).

const T = texts({
  vacant: ['空置', 'vacant'],
  good: ['正常', 'good'],
  stale: ['过时', 'stale'],
  bad: ['无效', 'bad'],
  noValue: ['尚无读数', 'no reading yet'],
  valueTitle: ['{meter} {point}：{quality}，读取于 {at}', '{meter} {point}: {quality}, read at {at}'],
  online: ['通讯正常', 'online'],
  offline: ['通讯中断', 'offline'],
  unknown: ['通讯状态未知', 'status unknown'],
  commTitle: ['{meter}：{status}，自 {at}', '{meter}: {status} since {at}'],
  trend: ['查看 {unit} 的趋势', 'Trend of {unit}'],
  electricity: ['电', 'E'],
  water: ['水', 'W'],
});

export interface UnitChipProps {
  unit: Unit;
  values: ReadonlyMap<string, PointValue>;
  status: ReadonlyMap<string, DeviceStatus>;
}

export function UnitChip({ unit, values, status }: UnitChipProps) {
  const t = useT(T);
  const ids = unit.meters.map((m) => m.id);
  return (
    <div class={`ov-unit${unit.tenant ? '' : ' vacant'}`} data-unit={unit.id}>
      <a class="ov-unit-head" href={ids.length ? href('trends', ...ids) : undefined} title={t('trend', { unit: unit.id })}>
        <b>{unit.id}</b>
        <span class="ov-tenant" data-testid="tenant" title={unit.tenant?.company}>
          {unit.tenant ? unit.tenant.company : t('vacant')}
        </span>
      </a>
      {unit.meters.map((m) => (
        <MeterLine key={m.id} meter={m} value={values.get(pointKey(m.id, m.point))} status={status.get(m.id)} comm={commOf(status, m.id)} t={t} />
      ))}
    </div>
  );
}

interface MeterLineProps {
  meter: Meter;
  value: PointValue | undefined;
  status: DeviceStatus | undefined;
  comm: ReturnType<typeof commOf>;
  t: Translate<typeof T>;
}

function MeterLine({ meter, value, status, comm, t }: MeterLineProps) {
  const quality = value?.quality;
  const valueTitle = value
    ? t('valueTitle', { meter: meter.id, point: meter.point, quality: t(value.quality), at: fmtDateTime(value.sourceTime) }) + (value.error ? ` (${value.error})` : '')
    : t('noValue');
  const commTitle = status ? t('commTitle', { meter: meter.id, status: t(comm), at: fmtDateTime(status.at) }) + (status.error ? ` (${status.error})` : '') : t('unknown');
  return (
    <a class="ov-meter" href={href('trends', meter.id)} data-meter={meter.id}>
      <span class={`ov-dot st-${comm}`} data-testid="comm" data-device={meter.id} data-status={comm} title={commTitle} />
      <span class="ov-kind">{t(meter.kind)}</span>
      <span
        class={`ov-val ${quality ? `q-${quality}` : 'muted'}`}
        data-testid="value"
        data-point={pointKey(meter.id, meter.point)}
        data-quality={quality ?? 'none'}
        title={valueTitle}
      >
        {fmtValue(value?.value)}
      </span>
      <span class="ov-sym">{meter.unit}</span>
    </a>
  );
}
