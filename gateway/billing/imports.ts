import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { SqliteRecordStore } from '../storage/records.ts';
import type { Job, JobTracker } from '../work/jobs.ts';
import { WorkError, type WorkRunner } from '../work/types.ts';
import type { CheckReport, CsvProblem, ImportKind } from './csv.ts';
import { ImportStaging, type StagingKey } from './import-staging.ts';
import { BillingError, type BillingRepository } from './repository.ts';

// Readings and payments imports (issue 7), streamed (issue 15): a 50 MB file
// imports through the API with flat memory and without holding the event loop.
//  1. The upload streams to a file in <dataDir>/imports (asynchronous I/O only).
//  2. A worker checks it row by row and stages the clean rows (csv.ts, import-staging.ts).
//     The file is still all or nothing: one bad row and nothing is written.
//  3. The main thread, records.db's one writer, copies the staged rows in short
//     transactions, yielding to the event loop between them. Each one also moves the
//     import's journal row on, so a hub that stops mid-way resumes where it was at
//     its next start (roll forward: the whole file was checked, so it is committed
//     from the moment the journal row exists). The audit entry comes with the last.

export type ImportReport = { ok: true; inserted: number; duplicates: number } | { ok: false; problems: CsvProblem[]; problemCount: number };

/** "3 problem(s)", or "2500 problem(s), the first 1000 listed": what the API and the CLI say of a refused file. */
export function problemsSummary(report: { problems: CsvProblem[]; problemCount: number }): string {
  const { problemCount: n, problems } = report;
  return `${n} problem(s)${n > problems.length ? `, the first ${problems.length} listed` : ''}`;
}

/** Rows per transaction on the main thread: a few milliseconds each (issue 15's main-thread budget). */
const ROWS_PER_TRANSACTION = 250;

interface JournalRow {
  id: number;
  kind: ImportKind;
  staging: string;
  rows: number;
  after: StagingKey | null;
  inserted: number;
  duplicates: number;
  createdBy: string;
}

export class BillingImports {
  private readonly dir: string;
  private readonly stmt;
  private sequence = 0;
  private stopping = false;
  /** The write loop under way, if any: stop() waits for its current transaction. */
  private writing?: Promise<unknown>;

  constructor(
    private readonly records: SqliteRecordStore,
    private readonly repo: BillingRepository,
    private readonly runner: WorkRunner,
    private readonly jobs: JobTracker,
    private readonly clock: Clock,
    dataDir: string,
  ) {
    this.dir = join(dataDir, 'imports');
    const db = records.db;
    this.stmt = {
      add: db.prepare("INSERT INTO billing_imports (kind, staging, rows, state, created_at, created_by) VALUES (?, ?, ?, 'writing', ?, ?)"),
      advance: db.prepare('UPDATE billing_imports SET after_json = ?, inserted = inserted + ?, duplicates = duplicates + ? WHERE id = ?'),
      done: db.prepare("UPDATE billing_imports SET state = 'done', finished_at = ? WHERE id = ?"),
      get: db.prepare('SELECT id, kind, staging, rows, after_json, inserted, duplicates, created_by FROM billing_imports WHERE id = ?'),
      unfinished: db.prepare("SELECT id FROM billing_imports WHERE state = 'writing' ORDER BY id").pluck(),
      journaled: db.prepare('SELECT 1 FROM billing_imports WHERE staging = ?'),
    };
  }

  /**
   * Imports an uploaded file. One import at a time, and never beside a billing run:
   * a run must see a file entirely or not at all (409 otherwise, naming who started it).
   * Over maxBytes the upload stops at once with 413, and nothing is kept.
   */
  async upload(kind: ImportKind, body: Readable, actor: string, maxBytes: number): Promise<ImportReport> {
    this.refuseWhileBusy();
    const job = this.jobs.start(`billing.import-${kind}`, `${kind}.csv`, actor);
    const name = `${this.clock.now()}-${++this.sequence}-${kind}`;
    const file = join(this.dir, `${name}.csv`);
    const staging = join(this.dir, `${name}.staging.db`);
    try {
      await mkdir(this.dir, { recursive: true });
      job.stage('uploading');
      await pipeline(body, byteLimit(maxBytes), createWriteStream(file));
      const report = await this.runner.run<CheckReport>({ kind: 'billing.import-check', what: kind, file, staging }, { onProgress: job.progress });
      if (!report.ok) {
        await rm(staging, { force: true });
        job.fail(`${problemsSummary(report)}; nothing imported`);
        return report;
      }
      const id = Number(this.stmt.add.run(kind, staging, report.rows, this.clock.now(), actor).lastInsertRowid);
      const counts = await this.write(id, job);
      return { ok: true, ...counts };
    } catch (err) {
      // A journaled import is committed: its staged rows stay for resume() to finish.
      if (this.stmt.journaled.get(staging) === undefined) await rm(staging, { force: true });
      job.fail(describeError(err));
      throw err;
    } finally {
      // Deleting files of tens of MB asynchronously: unlinking a large file is not free.
      await rm(file, { force: true });
    }
  }

  /** Finishes imports a stopped hub left half-written (the billing plug-in calls it at start). */
  async resume(): Promise<void> {
    for (const id of this.stmt.unfinished.all() as number[]) {
      const row = this.row(id);
      await this.write(id, this.jobs.start(`billing.import-${row.kind}`, `${row.kind}.csv`, row.createdBy));
    }
  }

  /** A stopping hub ends the write loop after its current transaction; the journal keeps the rest for resume(). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.writing?.catch(() => undefined);
  }

  private write(id: number, job: Job): Promise<{ inserted: number; duplicates: number }> {
    const writing = this.copy(id, job);
    this.writing = writing;
    return writing;
  }

  /** Copies the staged rows into records.db, ROWS_PER_TRANSACTION at a time, from where the journal says. */
  private async copy(id: number, job: Job): Promise<{ inserted: number; duplicates: number }> {
    const start = this.row(id);
    const staging = ImportStaging.open(start.staging);
    let { after, inserted, duplicates } = start;
    let result: { inserted: number; duplicates: number };
    try {
      const next = (from: StagingKey | null) => {
        if (start.kind === 'readings') {
          const b = staging.readsAfter(from, ROWS_PER_TRANSACTION);
          return { ...b, store: () => this.repo.insertReads(b.rows, start.createdBy) };
        }
        const b = staging.paymentsAfter(from, ROWS_PER_TRANSACTION);
        return { ...b, store: () => this.repo.insertPayments(b.rows, start.createdBy) };
      };
      for (;;) {
        if (this.stopping) throw new WorkError('billing.import-check', 'the hub is stopping; the checked file is written in full when it starts again');
        const batch = next(after);
        if (batch.rows.length === 0) break;
        const counts = this.records.transaction(() => {
          const c = batch.store();
          this.stmt.advance.run(JSON.stringify(batch.last), c.inserted, c.duplicates, id);
          return c;
        });
        after = batch.last;
        inserted += counts.inserted;
        duplicates += counts.duplicates;
        job.progress({ stage: 'writing', done: inserted + duplicates, total: start.rows });
        await nextTurn();
      }
      result = { inserted, duplicates };
      this.records.transaction(() => {
        const action = start.kind === 'readings' ? 'billing.reads.import' : 'billing.payments.import';
        this.records.appendAudit({ at: this.clock.now(), actor: start.createdBy, action, subject: `${start.rows} ${start.kind === 'readings' ? 'reads' : 'payments'}`, after: result });
        this.stmt.done.run(this.clock.now(), id);
      });
    } finally {
      staging.close();
    }
    // The rows are in records.db now; an interrupted import (a throw above) keeps its staged rows for resume().
    await rm(start.staging, { force: true });
    job.finish(result);
    return result;
  }

  private row(id: number): JournalRow {
    const r = this.stmt.get.get(id) as { id: number; kind: ImportKind; staging: string; rows: number; after_json: string | null; inserted: number; duplicates: number; created_by: string };
    return { id: r.id, kind: r.kind, staging: r.staging, rows: r.rows, after: r.after_json ? (JSON.parse(r.after_json) as StagingKey) : null, inserted: r.inserted, duplicates: r.duplicates, createdBy: r.created_by };
  }

  private refuseWhileBusy(): void {
    const busy = this.jobs.list().find((j) => j.kind === 'billing.run' || j.kind.startsWith('billing.import-'));
    if (busy) throw new BillingError('BOHUB_BILLING_RUNNING', `${busy.kind === 'billing.run' ? `a billing run of ${busy.subject}` : 'an import'} is under way, started by ${busy.startedBy}; try again when it ends`);
  }
}

/** Passes bytes through until there are more than max, then fails with 413 (BOHUB_BILLING_TOO_LARGE). */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new BillingError('BOHUB_BILLING_TOO_LARGE', `the file is larger than ${Math.round(max / 1048576)} MiB; split it into smaller files`));
      else done(null, chunk);
    },
  });
}
