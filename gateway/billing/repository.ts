import type { Clock } from '../clock.ts';
import type { SqliteRecordStore } from '../storage/records.ts';
import type { NewPaymentRow } from './csv.ts';
import { NotableReads } from './notable.ts';
import { decodeOne, editMap, ReadDecoder, type EditRow, type OneReadRow, type ReadRow } from './read-rows.ts';
import type { NewRead, Payment, RunResult, StoredRead, TenancyEvent } from './types.ts';

// The billing tables (records migration 3). Reads, edits, payments and runs carry
// money, so every change a person makes is written in the same transaction as its
// audit entry (ARCHITECTURE.md); only the poller's interval reads go unaudited,
// because they are high volume and the read rows record who wrote them.

export type BillingErrorCode = 'BOHUB_BILLING_INVALID' | 'BOHUB_BILLING_TOO_LARGE' | 'BOHUB_BILLING_NOT_FOUND' | 'BOHUB_BILLING_CONFLICT' | 'BOHUB_BILLING_RUNNING' | 'BOHUB_BILLING_LOCKED' | 'BOHUB_BILLING_READ_FAILED';

const STATUS: Record<BillingErrorCode, number> = {
  BOHUB_BILLING_INVALID: 400,
  /** An import file over the API's limit (IMPORT_MAX_BYTES in http/routes/billing.ts; issue 15). */
  BOHUB_BILLING_TOO_LARGE: 413,
  BOHUB_BILLING_NOT_FOUND: 404,
  BOHUB_BILLING_CONFLICT: 409,
  /** A run of the period is under way (issue 15). */
  BOHUB_BILLING_RUNNING: 409,
  BOHUB_BILLING_LOCKED: 409,
  // A meter that cannot be read now is the device's failure, not the request's.
  BOHUB_BILLING_READ_FAILED: 503,
};

/** A refused billing action; status is the HTTP status the API answers with. */
export class BillingError extends Error {
  readonly status: number;
  constructor(
    readonly code: BillingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BillingError';
    this.status = STATUS[code];
  }
}

export interface StoredRun {
  id: number;
  period: string;
  version: number;
  status: 'draft' | 'closed';
  corrects?: number;
  outputsHash: string;
  result: RunResult;
  createdAt: number;
  createdBy: string;
  closedAt?: number;
  closedBy?: string;
}

/** A run without its result. */
export type RunMeta = Omit<StoredRun, 'result'>;

export const TASK_STATES = ['open', 'pending_approval', 'approved', 'done'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface BillingTask {
  id: number;
  period: string;
  list: string;
  /** Local date, YYYY-MM-DD. */
  dueDate: string;
  state: TaskState;
  doc: unknown;
  createdAt: number;
  updatedAt: number;
  updatedBy: string;
}

export interface NewTenancyEvent {
  unitId: string;
  kind: 'move_in' | 'move_out';
  at: number;
  company: string;
  occupancy: 'owner' | 'tenant';
}

const DECIMAL = /^\d+(\.\d+)?$/;

// The columns a read is decoded from. The six low-variety text columns travel as
// one JSON array, decoded once per distinct combination: one string per row
// instead of six made a month-end pass over ~15 million reads about 1.3× faster.
const READ_COLS = 'r.id, r.read_at, r.value, json_array(r.serial, r.multiplier, r.kind, r.source, r.quality, r.recorded_by), r.note, r.recorded_at, r.meter_id';
const LATEST_EDIT = 'LEFT JOIN billing_read_edits e ON e.id = (SELECT max(id) FROM billing_read_edits WHERE read_id = r.id)';
const ONE_READ = `SELECT ${READ_COLS}, e.id, e.value, e.reason, e.actor, e.at FROM billing_reads r ${LATEST_EDIT}`;
const RUN_COLS = 'id, period, version, status, corrects, outputs_hash AS outputsHash, created_at AS createdAt, created_by AS createdBy, closed_at AS closedAt, closed_by AS closedBy';
const TASK_COLS = 'id, period, list, due_date AS dueDate, state, doc_json AS doc, created_at AS createdAt, updated_at AS updatedAt, updated_by AS updatedBy';

export class BillingRepository {
  private readonly stmt;
  private readonly notable: NotableReads;

  constructor(
    private readonly records: SqliteRecordStore,
    private readonly clock: Clock,
    /** maxUsePerHour of each meter (device profile); reads of meters not in it are all validated one by one. */
    limits: ReadonlyMap<string, number> = new Map(),
  ) {
    const db = records.db;
    this.notable = new NotableReads(db, limits);
    this.stmt = {
      insertRead: db.prepare(
        'INSERT OR IGNORE INTO billing_reads (meter_id, serial, read_at, value, multiplier, kind, source, quality, note, recorded_at, recorded_by, plain, run_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      nextMeter: db.prepare('SELECT min(meter_id) FROM billing_reads WHERE meter_id > ?').pluck(),
      // INDEXED BY: without statistics the planner prefers walking every read of the meter.
      essentials: db.prepare(`SELECT ${READ_COLS} FROM billing_reads r INDEXED BY billing_reads_notable WHERE r.meter_id = @meter AND r.read_at BETWEEN @from AND @to AND r.plain = 0
        UNION SELECT ${READ_COLS} FROM billing_reads r WHERE r.id IN (
          SELECT (SELECT id FROM billing_reads WHERE meter_id = @meter AND read_at BETWEEN @from AND @to ORDER BY read_at, id LIMIT 1)
          UNION SELECT (SELECT id FROM billing_reads WHERE meter_id = @meter AND read_at BETWEEN @from AND @to ORDER BY read_at DESC, id DESC LIMIT 1)
          UNION SELECT (SELECT id FROM billing_reads WHERE meter_id = @meter AND read_at BETWEEN @from AND b.value ORDER BY read_at DESC, id DESC LIMIT 1) FROM json_each(@at) b
          UNION SELECT (SELECT id FROM billing_reads WHERE meter_id = @meter AND read_at BETWEEN b.value AND @to ORDER BY read_at, id LIMIT 1) FROM json_each(@at) b
        ) ORDER BY 2, 1`).raw(),
      series: db.prepare(`SELECT ${READ_COLS} FROM billing_reads r WHERE r.meter_id = ? AND r.read_at BETWEEN ? AND ? ORDER BY r.read_at, r.id`).raw(),
      editsInRange: db.prepare(
        'SELECT e.read_id, e.value, e.reason, e.actor, e.at FROM billing_read_edits e JOIN billing_reads r ON r.id = e.read_id WHERE r.read_at BETWEEN ? AND ? ORDER BY e.id',
      ).raw(),
      editsOfMeter: db.prepare(
        'SELECT e.read_id, e.value, e.reason, e.actor, e.at FROM billing_read_edits e JOIN billing_reads r ON r.id = e.read_id WHERE r.meter_id = ? AND r.read_at BETWEEN ? AND ? ORDER BY e.id',
      ).raw(),
      getRead: db.prepare(`${ONE_READ} WHERE r.id = ?`).raw(),
      snapshotAudit: db.prepare("SELECT 1 FROM audit_log WHERE action = 'billing.snapshot' AND at >= ? AND subject = ? LIMIT 1"),
      insertEdit: db.prepare('INSERT INTO billing_read_edits (read_id, value, reason, actor, at) VALUES (?, ?, ?, ?, ?)'),
      insertTenancy: db.prepare(
        'INSERT INTO billing_tenancy_events (unit_id, kind, at, company, occupancy, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      tenancyEvents: db.prepare(
        `SELECT id, unit_id AS unitId, kind, at, company, occupancy, recorded_at AS recordedAt, recorded_by AS recordedBy
         FROM billing_tenancy_events WHERE ? IS NULL OR unit_id = ? ORDER BY at, id`,
      ),
      payments: db.prepare(
        `SELECT id, unit_id AS unitId, paid_at AS paidAt, amount, reference, recorded_at AS recordedAt, recorded_by AS recordedBy FROM billing_payments
         WHERE (@unitId IS NULL OR unit_id = @unitId) AND (@until IS NULL OR paid_at <= @until) ORDER BY paid_at, id`,
      ),
      insertPayment: db.prepare('INSERT OR IGNORE INTO billing_payments (unit_id, paid_at, amount, reference, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?)'),
      latestRunMeta: db.prepare(`SELECT ${RUN_COLS} FROM billing_runs WHERE period = ? ORDER BY version DESC LIMIT 1`),
      latestRun: db.prepare(`SELECT ${RUN_COLS}, result_json AS result FROM billing_runs WHERE period = ? ORDER BY version DESC LIMIT 1`),
      run: db.prepare(`SELECT ${RUN_COLS}, result_json AS result FROM billing_runs WHERE period = ? AND version = ?`),
      runs: db.prepare(`SELECT ${RUN_COLS} FROM billing_runs WHERE ? IS NULL OR period = ? ORDER BY id DESC`),
      insertRun: db.prepare(
        "INSERT INTO billing_runs (period, version, status, corrects, outputs_hash, result_json, created_at, created_by) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?)",
      ),
      closeRun: db.prepare("UPDATE billing_runs SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?"),
      upsertTask: db.prepare(
        `INSERT INTO billing_tasks (period, list, due_date, state, doc_json, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (period, list) DO UPDATE SET due_date = excluded.due_date, state = excluded.state, doc_json = excluded.doc_json,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
      taskByKey: db.prepare(`SELECT ${TASK_COLS} FROM billing_tasks WHERE period = ? AND list = ?`),
      taskById: db.prepare(`SELECT ${TASK_COLS} FROM billing_tasks WHERE id = ?`),
      tasks: db.prepare(`SELECT ${TASK_COLS} FROM billing_tasks WHERE ? IS NULL OR period = ? ORDER BY period, due_date, id`),
      setTaskState: db.prepare('UPDATE billing_tasks SET state = ?, updated_at = ?, updated_by = ? WHERE id = ?'),
    };
  }

  /** Stores reads, skipping exact repeats (same meter, read time, serial, kind and value). */
  insertReads(reads: NewRead[], actor: string, audit?: { action: string; subject: string }): { inserted: number; duplicates: number } {
    return this.records.transaction(() => {
      const at = this.clock.now();
      let inserted = 0;
      const classify = this.notable.batch();
      // By meter, then time (stable): each meter's reads are judged against each other in order.
      const ordered = [...reads].sort((a, b) => (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : a.readAt - b.readAt));
      for (const r of ordered) {
        const { plain, runStart } = classify.judge(r);
        const info = this.stmt.insertRead.run(r.meterId, r.serial, r.readAt, r.value, r.multiplier, r.kind, r.source, r.quality, r.note ?? null, at, actor, plain, runStart);
        if (info.changes) classify.stored(r, Number(info.lastInsertRowid), runStart);
        inserted += info.changes;
      }
      const counts = { inserted, duplicates: reads.length - inserted };
      if (audit) this.records.appendAudit({ at, actor, action: audit.action, subject: audit.subject, after: counts });
      return counts;
    });
  }

  /**
   * Calls fn once per meter with its reads in [from, to], by meter id, then read
   * time. Only one meter's reads are in memory at a time: a month of 15-minute
   * reads for 5,000 meters is ~15 million rows. One query per meter with .all()
   * measured faster than a single .iterate() over all meters (each iterator step
   * crosses into native code), while still holding one meter at a time.
   */
  forEachMeterSeries(from: number, to: number, fn: (meterId: string, reads: StoredRead[]) => void): void {
    for (const reads of this.meterSeries(from, to)) fn(reads[0]!.meterId, reads);
  }

  /** Each meter's reads in [from, to], one meter at a time, so a caller can stop or pause between meters. */
  *meterSeries(from: number, to: number): Generator<StoredRead[]> {
    const edits = editMap(this.stmt.editsInRange.all(from, to) as EditRow[]);
    const decoder = new ReadDecoder();
    for (let meter = this.stmt.nextMeter.get('') as string | null; meter !== null; meter = this.stmt.nextMeter.get(meter) as string | null) {
      const reads = decoder.decodeAll(this.stmt.series.all(meter, from, to) as ReadRow[], meter, edits);
      if (reads.length > 0) yield reads;
    }
  }

  /**
   * What the month-end validation needs of each meter in [from, to]: its notable
   * reads (notable.ts), its first and last read, and the reads either side of each
   * boundary (the period's ends, move-in and move-out times). Skipping the plain
   * reads in between changes no result and keeps a 5,000-meter month fast.
   */
  forEachMeterEssentials(meterIds: readonly string[], from: number, to: number, boundariesOf: (meterId: string) => readonly number[], fn: (meterId: string, reads: StoredRead[]) => void): void {
    const edits = editMap(this.stmt.editsInRange.all(from, to) as EditRow[]);
    const decoder = new ReadDecoder();
    for (const meter of meterIds) {
      const at = JSON.stringify(boundariesOf(meter));
      fn(meter, decoder.decodeAll(this.stmt.essentials.all({ meter, from, to, at }) as ReadRow[], meter, edits));
    }
  }

  /** One meter's reads in [from, to], in time order, with their latest edits. */
  readsOf(meterId: string, from: number, to: number): StoredRead[] {
    const edits = editMap(this.stmt.editsOfMeter.all(meterId, from, to) as EditRow[]);
    return new ReadDecoder().decodeAll(this.stmt.series.all(meterId, from, to) as ReadRow[], meterId, edits);
  }

  /**
   * Whether the reading-day snapshot for `boundary` was taken: its audit entry
   * ('billing.snapshot', subject the boundary as ISO UTC) exists. Asked of the
   * audit log because it is indexed by action and time; the reads are not by time alone.
   */
  hasSnapshot(boundary: number, toleranceMs: number): boolean {
    return this.stmt.snapshotAudit.get(boundary - toleranceMs, new Date(boundary).toISOString()) !== undefined;
  }

  getRead(id: number): StoredRead | undefined {
    return decodeOne(this.stmt.getRead.get(id) as OneReadRow | undefined);
  }

  /** Corrects (or, with value null, excludes) a read; the raw value is kept beside the edit. */
  editRead(readId: number, change: { value: string | null; reason: string }, actor: string): StoredRead {
    if (change.value !== null && !DECIMAL.test(change.value)) {
      throw new BillingError('BOHUB_BILLING_INVALID', `value "${change.value}" is not a non-negative decimal; write e.g. 11840.20, or null to exclude the read`);
    }
    if (change.reason.trim() === '') throw new BillingError('BOHUB_BILLING_INVALID', 'an edit needs a reason');
    return this.records.transaction(() => {
      const read = this.getRead(readId);
      if (!read) throw new BillingError('BOHUB_BILLING_NOT_FOUND', `read ${readId} does not exist`);
      const at = this.clock.now();
      this.stmt.insertEdit.run(readId, change.value, change.reason, actor, at);
      this.notable.markRead(readId);
      const before = { value: read.edit ? read.edit.value : read.value };
      this.records.appendAudit({ at, actor, action: 'billing.read.edit', subject: `read/${readId}`, before, after: { value: change.value, reason: change.reason } });
      return this.getRead(readId)!;
    });
  }

  /** Records a move-in or move-out with the hand reads taken at it; the reads get the event's kind. */
  addTenancyEvent(event: NewTenancyEvent, reads: NewRead[], actor: string): TenancyEvent {
    return this.records.transaction(() => {
      const recordedAt = this.clock.now();
      const info = this.stmt.insertTenancy.run(event.unitId, event.kind, event.at, event.company, event.occupancy, recordedAt, actor);
      const counts = this.insertReads(reads.map((r) => ({ ...r, kind: event.kind })), actor);
      const stored: TenancyEvent = { id: Number(info.lastInsertRowid), ...event, recordedAt, recordedBy: actor };
      this.records.appendAudit({ at: recordedAt, actor, action: `billing.${event.kind}`, subject: `unit/${event.unitId}`, after: { ...event, reads: counts.inserted } });
      return stored;
    });
  }

  /** Ordered by time. */
  tenancyEvents(unitId?: string): TenancyEvent[] {
    return this.stmt.tenancyEvents.all(unitId ?? null, unitId ?? null) as TenancyEvent[];
  }

  /** Stores payments; a reference already stored is a duplicate and changes nothing. */
  /** Stores payments, skipping a reference already stored; audited when audit is given (an import audits once, at its end). */
  insertPayments(payments: NewPaymentRow[], actor: string, audit?: { action: string; subject: string }): { inserted: number; duplicates: number } {
    return this.records.transaction(() => {
      const at = this.clock.now();
      let inserted = 0;
      for (const p of payments) inserted += this.stmt.insertPayment.run(p.unitId, p.paidAt, p.amount, p.reference, at, actor).changes;
      const counts = { inserted, duplicates: payments.length - inserted };
      if (audit) this.records.appendAudit({ at, actor, action: audit.action, subject: audit.subject, after: counts });
      return counts;
    });
  }

  /** Ordered by payment time; `until` is inclusive. */
  payments(filter: { unitId?: string; until?: number } = {}): Payment[] {
    return this.stmt.payments.all({ unitId: filter.unitId ?? null, until: filter.until ?? null }) as Payment[];
  }

  /** The latest run's metadata without its (large) result: what the main thread may read. */
  latestRunMeta(period: string): RunMeta | undefined {
    return fromRow<RunMeta>(this.stmt.latestRunMeta.get(period));
  }

  latestRun(period: string): StoredRun | undefined {
    return fromRow<StoredRun>(this.stmt.latestRun.get(period), ['result']);
  }

  run(period: string, version: number): StoredRun | undefined {
    return fromRow<StoredRun>(this.stmt.run.get(period, version), ['result']);
  }

  /** Newest first, without the (large) results. */
  runs(period?: string): RunMeta[] {
    return this.stmt.runs.all(period ?? null, period ?? null).map((r) => fromRow<RunMeta>(r)!);
  }

  /** Stores a run as the next version of its period, as a draft. */
  saveRun(input: { period: string; outputsHash: string; result: RunResult; corrects?: number }, actor: string): StoredRun {
    const { result, ...rest } = input;
    const meta = this.saveRunJson({ ...rest, resultJson: JSON.stringify(result) }, actor);
    return this.run(meta.period, meta.version)!;
  }

  /**
   * Stores a run already serialised (by a worker, gateway/billing/work.ts) as the next
   * version of its period, with its audit entry, in one transaction. Nothing large is
   * parsed or built here: the main thread only writes the string.
   */
  saveRunJson(input: { period: string; outputsHash: string; resultJson: string; corrects?: number }, actor: string): RunMeta {
    return this.records.transaction(() => {
      const at = this.clock.now();
      const version = (this.latestRunMeta(input.period)?.version ?? 0) + 1;
      this.stmt.insertRun.run(input.period, version, input.corrects ?? null, input.outputsHash, input.resultJson, at, actor);
      this.records.appendAudit({
        at,
        actor,
        action: 'billing.run',
        subject: `run/${input.period}/${version}`,
        after: { period: input.period, version, outputsHash: input.outputsHash, corrects: input.corrects ?? null },
      });
      return this.latestRunMeta(input.period)!;
    });
  }

  /** Closes the period's latest version; from then on the database refuses to rewrite it. */
  closeRun(period: string, actor: string): RunMeta {
    return this.records.transaction(() => {
      const latest = this.latestRunMeta(period);
      if (!latest) throw new BillingError('BOHUB_BILLING_NOT_FOUND', `period ${period} has no billing run to close`);
      if (latest.status === 'closed') throw new BillingError('BOHUB_BILLING_CONFLICT', `period ${period} version ${latest.version} is already closed`);
      const at = this.clock.now();
      this.stmt.closeRun.run(at, actor, latest.id);
      this.records.appendAudit({ at, actor, action: 'billing.close', subject: `run/${period}/${latest.version}`, before: { status: 'draft' }, after: { status: 'closed', outputsHash: latest.outputsHash } });
      return { ...latest, status: 'closed', closedAt: at, closedBy: actor };
    });
  }

  /** Creates the (period, list) task, or replaces its due date, state and document. */
  upsertTask(t: { period: string; list: string; dueDate: string; state: TaskState; doc: unknown }, actor: string): BillingTask {
    checkState(t.state);
    return this.records.transaction(() => {
      const at = this.clock.now();
      const before = fromRow<BillingTask>(this.stmt.taskByKey.get(t.period, t.list), ['doc']);
      this.stmt.upsertTask.run(t.period, t.list, t.dueDate, t.state, JSON.stringify(t.doc), at, at, actor);
      this.records.appendAudit({
        at,
        actor,
        action: 'billing.task',
        subject: `task/${t.period}/${t.list}`,
        ...(before && { before: { state: before.state, dueDate: before.dueDate } }),
        after: { state: t.state, dueDate: t.dueDate },
      });
      return fromRow<BillingTask>(this.stmt.taskByKey.get(t.period, t.list), ['doc'])!;
    });
  }

  /** By period, then due date. */
  tasks(period?: string): BillingTask[] {
    return this.stmt.tasks.all(period ?? null, period ?? null).map((r) => fromRow<BillingTask>(r, ['doc'])!);
  }

  setTaskState(id: number, state: TaskState, actor: string): BillingTask {
    checkState(state);
    return this.records.transaction(() => {
      const row = fromRow<BillingTask>(this.stmt.taskById.get(id), ['doc']);
      if (!row) throw new BillingError('BOHUB_BILLING_NOT_FOUND', `task ${id} does not exist`);
      const at = this.clock.now();
      this.stmt.setTaskState.run(state, at, actor, id);
      this.records.appendAudit({ at, actor, action: 'billing.task.state', subject: `task/${row.period}/${row.list}`, before: { state: row.state }, after: { state } });
      return { ...row, state, updatedAt: at, updatedBy: actor };
    });
  }
}

/** A row selected under the API's field names: null columns become absent optional fields, JSON columns are parsed. */
function fromRow<T>(row: unknown, json: readonly string[] = []): T | undefined {
  if (row === undefined) return undefined;
  const fields = row as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (fields[key] === null) delete fields[key];
    else if (json.includes(key)) fields[key] = JSON.parse(fields[key] as string);
  }
  return fields as T;
}

function checkState(state: string): void {
  if (!(TASK_STATES as readonly string[]).includes(state)) throw new BillingError('BOHUB_BILLING_INVALID', `task state "${state}" is not one of ${TASK_STATES.join(', ')}`);
}
