import type { SignalState } from '../../../gateway/events.ts';
import { texts, useT } from '../i18n.ts';
import { fmtDateTime } from '../time.ts';
import { isQuiet, signalClass } from './overview-model.ts';

// A tower's safety signals on one line (fire zones, gas, leaks, power feeders):
// a quiet kind is a single "✓ n" count, anything else is named with its state,
// so an alarm stands out on the wall without a table (handbook 第九节).

const T = texts({
  'fire-zone': ['火警', 'Fire'],
  gas: ['燃气', 'Gas'],
  leak: ['漏水', 'Leaks'],
  'power-feeder': ['供电', 'Power'],
  normal: ['正常', 'normal'],
  alarm: ['报警', 'ALARM'],
  fault: ['故障', 'fault'],
  test: ['测试', 'test'],
  dry: ['正常', 'dry'],
  wet: ['漏水', 'WET'],
  on: ['供电', 'on'],
  off: ['断电', 'OFF'],
  'on-backup': ['备用电源', 'on backup'],
  since: ['{signal}：{state}，自 {at}', '{signal}: {state} since {at}'],
  none: ['无安全信号', 'no safety signals'],
});

const KINDS = ['fire-zone', 'gas', 'leak', 'power-feeder'] as const;

export function SignalStrip({ signals }: { signals: SignalState[] }) {
  const t = useT(T);
  const state = (s: SignalState) => (s.state in T ? t(s.state as keyof typeof T) : s.state);
  const groups = KINDS.map((kind) => ({ kind, list: signals.filter((s) => s.kind === kind) })).filter((g) => g.list.length > 0);
  if (groups.length === 0) return <div class="ov-signals muted">{t('none')}</div>;
  return (
    <div class="ov-signals" data-testid="signals">
      {groups.map(({ kind, list }) => {
        // Feeders are few and each matters (on mains or on the generator): always named.
        const shown = kind === 'power-feeder' ? list : list.filter((s) => !isQuiet(s));
        const quiet = list.length - shown.length;
        return (
          <span key={kind} class="ov-sig-group" data-kind={kind}>
            <span class="muted">{t(kind)}</span>
            {quiet > 0 && <span class="q-good">✓{quiet}</span>}
            {shown.map((s) => (
              <span
                key={s.signal}
                class={`badge ${signalClass(s)}`}
                data-signal={s.signal}
                title={t('since', { signal: s.signal, state: state(s), at: fmtDateTime(s.sourceTime) })}
              >
                {s.signal.split('-').slice(2).join('-') || s.signal} {state(s)}
              </span>
            ))}
          </span>
        );
      })}
    </div>
  );
}
