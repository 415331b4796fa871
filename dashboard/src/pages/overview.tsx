import type { PageProps } from '../app.tsx';
import { deviceStatus, signals, site, values } from '../building.ts';
import { texts, usePick, useT } from '../i18n.ts';
import { useStore } from '../store.ts';
import { floorLabel, floorsTopDown, signalsByTower, towerSummary, type Tower } from './overview-model.ts';
import { SignalStrip } from './overview-signals.tsx';
import { UnitChip } from './overview-unit.tsx';
import './overview.css';

// The building overview (#/overview, the default page; issue 8): towers, floors
// top down, and each unit's meters with their live billing-point values and comm
// status, compact enough for the demo's 272 meters in two towers on one
// 1920×1080 wall screen, and scrolling on a phone.

const T = texts({
  loading: ['正在加载楼宇…', 'Loading the building…'],
  meters: ['表计 {n}', '{n} meters'],
  online: ['在线 {n}', '{n} online'],
  offline: ['离线 {n}', '{n} offline'],
  unknown: ['未知 {n}', '{n} unknown'],
  bad: ['无效值 {n}', '{n} bad'],
  stale: ['过时值 {n}', '{n} stale'],
  floor: ['{f}层', 'F{f}'],
});

export function OverviewPage(_props: PageProps) {
  const t = useT(T);
  const tree = useStore(site);
  const vals = useStore(values);
  const status = useStore(deviceStatus);
  const sigs = useStore(signals);
  if (!tree) return <p class="muted">{t('loading')}</p>;
  const byTower = signalsByTower(sigs, tree.signals, tree.towers.map((tw) => tw.id));
  return (
    <div class="ov-towers" data-testid="overview">
      {tree.towers.map((tower) => (
        <TowerCard key={tower.id} tower={tower} values={vals} status={status} signals={byTower.get(tower.id) ?? []} />
      ))}
    </div>
  );
}

interface TowerCardProps {
  tower: Tower;
  values: ReturnType<typeof values.get>;
  status: ReturnType<typeof deviceStatus.get>;
  signals: Parameters<typeof SignalStrip>[0]['signals'];
}

function TowerCard({ tower, values: vals, status, signals: sigs }: TowerCardProps) {
  const t = useT(T);
  const pick = usePick();
  const s = towerSummary(tower, vals, status);
  return (
    <section class="card ov-tower" data-tower={tower.id}>
      <header class="ov-tower-head">
        <h2>{pick(tower.name)}</h2>
        <div class="ov-summary" data-testid="tower-summary" data-online={s.online} data-offline={s.offline} data-bad={s.bad} data-stale={s.stale}>
          <span class="muted">{t('meters', { n: s.meters })}</span>
          <span class="st-online">{t('online', { n: s.online })}</span>
          <span class={s.offline ? 'st-offline' : 'muted'}>{t('offline', { n: s.offline })}</span>
          {s.unknown > 0 && <span class="st-unknown">{t('unknown', { n: s.unknown })}</span>}
          <span class={s.bad ? 'q-bad' : 'muted'}>{t('bad', { n: s.bad })}</span>
          <span class={s.stale ? 'q-stale' : 'muted'}>{t('stale', { n: s.stale })}</span>
        </div>
        <SignalStrip signals={sigs} />
      </header>
      {floorsTopDown(tower).map((floor) => (
        <div key={floor.level} class="ov-floor" data-floor={floor.level}>
          <div class="ov-level">{t('floor', { f: floorLabel(floor.level) })}</div>
          <div class="ov-units">
            {floor.units.map((unit) => (
              <UnitChip key={unit.id} unit={unit} values={vals} status={status} />
            ))}
          </div>
        </div>
      ))}
    </section>
  );
}
