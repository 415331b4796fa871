// The billing module's shared vocabulary (issue 7). Amounts and register values are
// decimal strings everywhere they are stored or shown; only the VEE's per-read
// plausibility checks look at them as numbers, and no money is ever a float.

/** Why a read exists (the import format's `kind` column). */
export const READ_KINDS = ['actual', 'replacement_final', 'replacement_initial', 'move_in', 'move_out'] as const;
export type ReadKind = (typeof READ_KINDS)[number];

/** Where a read came from. */
export const READ_SOURCES = ['interval', 'snapshot', 'fallback', 'import', 'manual'] as const;
export type ReadSource = (typeof READ_SOURCES)[number];

/** A billing read as it goes into the records store. */
export interface NewRead {
  meterId: string;
  serial: string;
  /** ms since epoch, when the register was read (never when the row arrived). */
  readAt: number;
  /** The register as read, a decimal string in the meter's unit (kWh or m³), before the multiplier. */
  value: string;
  /** The CT ratio in force when it was read, decimal string; "1" for direct meters. */
  multiplier: string;
  kind: ReadKind;
  source: ReadSource;
  quality: 'good' | 'bad' | 'stale';
  /** Why it is special, e.g. "fresh read failed (BOHUB_MODBUS_TIMEOUT); latest good read 2 h 10 min old". */
  note?: string;
}

export interface ReadEdit {
  /** The corrected register value; null excludes the read from billing. */
  value: string | null;
  reason: string;
  actor: string;
  at: number;
}

export interface StoredRead extends NewRead {
  id: number;
  recordedAt: number;
  recordedBy: string;
  /** The latest manual edit, if any; the raw `value` is always kept beside it. */
  edit?: ReadEdit;
}

/** A move-in or move-out (handbook 第三节, 附件8 收楼书). */
export interface TenancyEvent {
  id: number;
  unitId: string;
  kind: 'move_in' | 'move_out';
  at: number;
  company: string;
  occupancy: 'owner' | 'tenant';
  recordedAt: number;
  recordedBy: string;
}

export interface Payment {
  id: number;
  unitId: string;
  paidAt: number;
  /** Decimal string, two places. */
  amount: string;
  /** The bank or receipt reference; unique, so importing a file twice records nothing twice. */
  reference: string;
  recordedAt: number;
  recordedBy: string;
}

/** What the VEE found, by code. `blocking` ones hold the unit's statement until someone edits a read. */
export const EXCEPTION_CODES = {
  unexplained_drop: { blocking: true, en: 'register fell with no rollover or replacement to explain it', zh: '读数下降，无法以回零或换表解释' },
  implausible_rollover: { blocking: true, en: 'a rollover would mean more use than the meter can measure', zh: '按回零计算的用量超过电表额定最大值' },
  serial_changed: { blocking: true, en: 'the serial number changed without a declared replacement', zh: '表号变更但未登记换表' },
  conflicting_duplicate: { blocking: true, en: 'two different values at the same read time', zh: '同一读表时间有两个不同读数' },
  negative_use: { blocking: true, en: 'the use came out negative', zh: '用量为负' },
  missing_read: { blocking: true, en: 'no read at the period boundary and no estimate allowed', zh: '结算时点无读数且不可估算' },
  estimate_cap: { blocking: true, en: 'too many estimated reads in a row; a hand read is needed', zh: '连续估算次数超过上限，需人工抄表' },
  glitch_read: { blocking: false, en: 'a read out of line with both neighbours was left out', zh: '与前后读数均不一致的读数已剔除' },
  estimated: { blocking: false, en: 'the closing read is estimated', zh: '期末读数为估算值' },
  fallback: { blocking: false, en: 'the fresh read failed; the latest good read was used', zh: '即时抄表失败，采用最近一次有效读数' },
  zero_use_occupied: { blocking: false, en: 'no use on an occupied unit', zh: '已入住单元用量为零' },
  use_on_vacant: { blocking: false, en: 'use on a vacant unit', zh: '空置单元有用量' },
  spike: { blocking: true, en: "use far above the meter's own history", zh: '用量远高于该表历史水平' },
  // A warning: offices close for weekends and holidays and their water meters stand still.
  frozen: { blocking: false, en: 'the same reading for days on an occupied unit', zh: '已入住单元连续多日读数不变' },
} as const;
export type ExceptionCode = keyof typeof EXCEPTION_CODES;

export interface VeeException {
  /** Stable across re-runs: `${period}/${meterId}/${code}/${at}`. */
  id: string;
  meterId: string;
  unitId: string;
  code: ExceptionCode;
  blocking: boolean;
  /** The read it is about, when there is one. */
  readId?: number;
  at: number;
  /** The facts behind it, e.g. "11 840.20 → 310.55 kWh". */
  detail: string;
}

/** One meter's use within one statement. */
export interface MeterUse {
  meterId: string;
  kind: 'electricity' | 'water';
  unit: 'kWh' | 'm³';
  /** Serial numbers read in the slice; more than one after a replacement. */
  serials: string[];
  opening: BoundaryRead;
  closing: BoundaryRead;
  /** Exact use after multipliers, rollovers and replacements, decimal string. */
  use: string;
}

/** A text shown to people, in both of the building's languages. */
export interface Bilingual {
  zh: string;
  en: string;
}

export interface BoundaryRead {
  at: number;
  /** The register value used (after any edit), decimal string. */
  value: string;
  serial: string;
  /** How it was obtained. */
  basis: 'read' | 'edited' | 'fallback' | 'carried' | 'estimated';
  /** For estimates: the rule that produced it, e.g. "average daily use over 28 days of reads". */
  rule?: Bilingual;
  readId?: number;
}

export type LineCode = 'electricity' | 'water' | 'management_fee' | 'late_fee';

export interface StatementLine {
  code: LineCode;
  /** Decimal strings. */
  quantity: string;
  unitPrice: string;
  /** Rounded to the cent (money.ts). */
  amount: string;
  /** e.g. "tier 0–200 kWh", "18/30 days", "13 days overdue". */
  basis: Bilingual;
}

export interface Statement {
  period: string;
  unitId: string;
  tower: string;
  floor: number;
  areaM2: number;
  company: string;
  occupancy: 'owner' | 'tenant';
  /** The slice of the period this tenant is billed for (a tenant change splits a period): reads and fee days together. */
  from: number;
  to: number;
  /** The meter-read window of this statement, within the period's (a move-in or move-out shortens it). */
  readsFrom: number;
  readsTo: number;
  /** Days of the fee month this tenant is charged the management fee for. */
  feeDays: number;
  meters: MeterUse[];
  lines: StatementLine[];
  /** Sum of this period's lines. */
  currentCharges: string;
  /** Unpaid totals of earlier statements less payments, at the period's close (negative = credit). */
  previousArrears: string;
  total: string;
  dueDate: string;
  /** 'held' when a blocking exception is open on one of its meters; a held statement gets no notice. */
  status: 'billed' | 'held';
  holds: string[];
}

export interface RunSummary {
  period: string;
  version: number;
  units: number;
  statements: number;
  held: number;
  /** Decimal strings by line code, and the grand total of billed statements. */
  totals: Record<LineCode | 'currentCharges' | 'total', string>;
  exceptionsOpen: number;
  exceptionsByCode: Partial<Record<ExceptionCode, number>>;
}

export interface RunResult {
  period: string;
  statements: Statement[];
  exceptions: VeeException[];
}
