import type { Alarm, AlarmKind, AlarmState } from '../../gateway/alarms/types.ts';
import { site } from './building.ts';
import { lang, pick, texts, translate, type Lang } from './i18n.ts';
import { useStore } from './store.ts';

// Words for alarms shared by the alerter banner and the alarms page: kinds, states,
// and where an alarm is.

export const KIND_TEXT = texts({
  fire: ['火警', 'Fire alarm'],
  gas: ['燃气泄漏', 'Gas alarm'],
  'power-loss': ['停电', 'Power loss'],
  leak: ['漏水', 'Leak'],
  'fire-fault': ['消防故障', 'Fire-system fault'],
  'gas-fault': ['燃气探测器故障', 'Gas-detector fault'],
  'comm-loss': ['通讯中断', 'Communication lost'],
} satisfies Record<AlarmKind, readonly [string, string]>);

/** ISA-18.2 / OPC-UA Part 9 states, in the operator's words. */
export const STATE_TEXT = texts({
  'active-unacknowledged': ['报警中·未确认', 'Active, unacknowledged'],
  'active-acknowledged': ['报警中·已确认', 'Active, acknowledged'],
  'cleared-unacknowledged': ['已恢复·未确认', 'Cleared, unacknowledged'],
  normal: ['已结束', 'Over'],
} satisfies Record<AlarmState, readonly [string, string]>);

const PLACE_TEXT = texts({
  floor: ['{n}层', 'floor {n}'],
  basement: ['地下{n}层', 'basement {n}'],
  awaitingReset: ['已恢复·待复位', 'Cleared, awaiting reset'],
  shelved: ['已搁置', 'Shelved'],
});

/**
 * Where an alarm is, as "A座 · 5层 · FZ-A-05" or "A座 · 地下1层 · 水泵房 · LK-A-B1-PUMP":
 * the signal's tower, floor and location from the site tree (GET /api/site `signals`).
 * A source that is no signal (a fire panel's comm loss) is shown by its id alone.
 */
export function placeOf(alarm: Pick<Alarm, 'source'>, l: Lang = lang.get()): string {
  const t = translate(PLACE_TEXT, l);
  const tree = site.get();
  const signal = tree?.signals.find((s) => s.id === alarm.source);
  const parts: string[] = [];
  const tower = signal && tree?.towers.find((x) => x.id === signal.tower);
  if (tower) parts.push(pick(tower.name, l));
  if (signal?.floor !== undefined) parts.push(signal.floor < 0 ? t('basement', { n: -signal.floor }) : t('floor', { n: signal.floor }));
  if (signal?.location) parts.push(pick(signal.location, l));
  parts.push(alarm.source);
  return parts.join(' · ');
}

/** placeOf that re-renders on a language switch and when the site tree arrives. */
export function usePlace(): (alarm: Pick<Alarm, 'source'>) => string {
  const l = useStore(lang);
  useStore(site);
  return (alarm) => placeOf(alarm, l);
}

/** The state as the operator reads it: a latched fire that returned to normal waits for its reset. */
export function stateLabel(alarm: Alarm, l: Lang = lang.get()): string {
  if (alarm.shelved) return `${translate(STATE_TEXT, l)(alarm.state)} · ${translate(PLACE_TEXT, l)('shelved')}`;
  if (alarm.latching && alarm.acked && !alarm.active && alarm.state !== 'normal') return translate(PLACE_TEXT, l)('awaitingReset');
  return translate(STATE_TEXT, l)(alarm.state);
}
