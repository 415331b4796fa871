import type { Acceptance } from '../../../gateway/billing/acceptances.ts';
import type { DunningList } from '../../../gateway/billing/outputs/dunning.ts';
import type { BillingTask, StoredRun } from '../../../gateway/billing/repository.ts';
import type { ExceptionCode, Statement, StoredRead, VeeException } from '../../../gateway/billing/types.ts';
import type { Texts } from '../i18n.ts';

// The billing API's answers as the page reads them (gateway/http/routes/billing.ts).
// Amounts and register values are decimal strings: shown as given, never turned
// into JS numbers (issue 7: no money is ever a float).

export type RunMeta = Omit<StoredRun, 'result'>;

export interface PeriodsReply {
  runs: RunMeta[];
}

export type RunException = VeeException & { accepted: Acceptance | null };

export interface RunReply {
  run: RunMeta;
  statements: Statement[];
  exceptions: RunException[];
}

export interface RunStartReply {
  outcome: 'new' | 'unchanged' | 'correction';
  run: RunMeta;
}

export interface ReadsReply {
  reads: StoredRead[];
}

export interface TasksReply {
  tasks: BillingTask[];
}

export interface DunningReply {
  date: string;
  lists: DunningList[];
}

export type { BillingTask, DunningList, StoredRead };

/** The run's documents (BillingService.render), by file name. */
export const RUN_FILES = ['statements.csv', 'exceptions.csv', 'summary.json', 'summary.html', 'notices.zh.html', 'notices.en.html'] as const;

export function fileUrl(run: RunMeta, name: string): string {
  return `/api/billing/runs/${run.period}/v/${run.version}/files/${name}`;
}

/**
 * What each VEE rule means, for the people resolving it (the hub's wording in
 * gateway/billing/types.ts EXCEPTION_CODES; a runtime import from gateway/ is not
 * allowed in the page, and the Record type makes a new code fail the type check here).
 */
export const RULE_TEXTS: Record<ExceptionCode, readonly [string, string]> = {
  unexplained_drop: ['读数下降，无法以回零或换表解释', 'register fell with no rollover or replacement to explain it'],
  implausible_rollover: ['按回零计算的用量超过电表额定最大值', 'a rollover would mean more use than the meter can measure'],
  serial_changed: ['表号变更但未登记换表', 'the serial number changed without a declared replacement'],
  conflicting_duplicate: ['同一读表时间有两个不同读数', 'two different values at the same read time'],
  negative_use: ['用量为负', 'the use came out negative'],
  missing_read: ['结算时点无读数且不可估算', 'no read at the period boundary and no estimate allowed'],
  estimate_cap: ['连续估算次数超过上限，需人工抄表', 'too many estimated reads in a row; a hand read is needed'],
  glitch_read: ['与前后读数均不一致的读数已剔除', 'a read out of line with both neighbours was left out'],
  estimated: ['期末读数为估算值', 'the closing read is estimated'],
  fallback: ['即时抄表失败，采用最近一次有效读数', 'the fresh read failed; the latest good read was used'],
  zero_use_occupied: ['已入住单元用量为零', 'no use on an occupied unit'],
  use_on_vacant: ['空置单元有用量', 'use on a vacant unit'],
  spike: ['用量远高于该表历史水平', "use far above the meter's own history"],
  frozen: ['已入住单元连续多日读数不变', 'the same reading for days on an occupied unit'],
} satisfies Texts;
