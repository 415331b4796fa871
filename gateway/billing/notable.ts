import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { NewRead } from './types.ts';

// Which reads the month-end validation must look at. A month of 15-minute reads
// for 5,000 meters is ~15 million rows, too many to hand to JavaScript one by one
// in the time finance waits. Almost all of them are plain: a read of the same
// meter, serial and multiplier that rose from the one before it by no more than
// the meter can measure. Skipping plain reads changes no validation result and no
// use: use within a segment is the last read minus the first, and a plain read
// is, by its definition, between its neighbours.
//
// So each read is classified when it is stored, against the reads stored before
// it. A read that is not plain is "notable", and so is the read before it (the
// context a rollover, spike or glitch is judged against). A run of one value is
// kept by its first and last read (a frozen meter is judged on their span). A
// read stored out of time order, or edited, makes itself and both neighbours
// notable. Reads of a meter without a known rate limit are all notable.

/** The sources whose reads can be plain; hand reads and fallbacks are always looked at. */
const PLAIN_SOURCES = new Set(['interval', 'snapshot', 'import']);

interface Neighbour {
  id: number;
  read_at: number;
  value: string;
  serial: string;
  multiplier: string;
}

export class NotableReads {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    /** maxUsePerHour of each meter's profile, in register units. */
    private readonly limits: ReadonlyMap<string, number>,
  ) {
    this.stmt = {
      // The two reads before a moment, newest first (ties by id, the order they were stored).
      before: db.prepare('SELECT id, read_at, value, serial, multiplier FROM billing_reads WHERE meter_id = ? AND (read_at < ? OR (read_at = ? AND id < ?)) ORDER BY read_at DESC, id DESC LIMIT 2'),
      after: db.prepare('SELECT id FROM billing_reads WHERE meter_id = ? AND (read_at > ? OR (read_at = ? AND id > ?)) ORDER BY read_at, id LIMIT 1').pluck(),
      plain: db.prepare('UPDATE billing_reads SET plain = 1 WHERE id = ?'),
      notable: db.prepare('UPDATE billing_reads SET plain = 0 WHERE id = ? AND plain = 1'),
      meterAndTime: db.prepare('SELECT meter_id, read_at FROM billing_reads WHERE id = ?'),
    };
  }

  /**
   * Classifies reads just stored (`ids[i]` is the row id of `reads[i]`, or 0 when it
   * was a duplicate and not stored). Call inside the inserting transaction.
   */
  classify(reads: readonly NewRead[], ids: readonly number[]): void {
    // Reads of one meter in time order, newer than everything stored before them,
    // are judged against each other in memory: the common case, and the fast one.
    const lastOf = new Map<string, Neighbour[]>();
    for (let i = 0; i < reads.length; i++) {
      const id = ids[i]!;
      if (!id) continue;
      const r = reads[i]!;
      const limit = this.limits.get(r.meterId);
      if (limit === undefined) continue; // stays notable
      const known = lastOf.get(r.meterId);
      // Once a meter's first read in the batch had nothing stored after it, its later reads have nothing either.
      if (!known?.[0] || known[0].read_at >= r.readAt) {
        const before = this.stmt.before.all(r.meterId, r.readAt, r.readAt, id) as Neighbour[];
        const later = this.stmt.after.get(r.meterId, r.readAt, r.readAt, id) as number | undefined;
        if (later !== undefined) {
          // Stored out of time order: it and both neighbours are looked at.
          this.markAround(id, before[0]?.id, later);
          lastOf.delete(r.meterId);
          continue;
        }
        lastOf.set(r.meterId, before);
      }
      const prev = lastOf.get(r.meterId)!;
      this.judge(r, id, prev, limit);
      prev.unshift({ id, read_at: r.readAt, value: r.value, serial: r.serial, multiplier: r.multiplier });
      prev.length = Math.min(prev.length, 2);
    }
  }

  /** A read and its neighbours become notable (an edit changed it, or it arrived out of order). */
  markRead(id: number): void {
    const row = this.stmt.meterAndTime.get(id) as { meter_id: string; read_at: number } | undefined;
    if (!row) return;
    const before = this.stmt.before.all(row.meter_id, row.read_at, row.read_at, id) as Neighbour[];
    this.markAround(id, before[0]?.id, this.stmt.after.get(row.meter_id, row.read_at, row.read_at, id) as number | undefined);
  }

  private judge(r: NewRead, id: number, prev: Neighbour[], limit: number): void {
    const [p, pp] = prev;
    if (!p) return; // a meter's first read starts its series
    const rise = Number(r.value) - Number(p.value);
    const hours = (r.readAt - p.read_at) / 3_600_000;
    const plain = r.kind === 'actual' && PLAIN_SOURCES.has(r.source) && r.serial === p.serial && r.multiplier === p.multiplier && hours > 0 && rise >= 0 && rise <= limit * hours;
    // A run of one value is kept by its ends: its first read when the run starts,
    // its last when it ends.
    if (pp && (r.value === p.value) !== (p.value === pp.value)) this.stmt.notable.run(p.id);
    if (plain) this.stmt.plain.run(id);
    else this.stmt.notable.run(p.id);
  }

  private markAround(id: number, before: number | undefined, after: number | undefined): void {
    for (const x of [id, before, after]) if (x !== undefined) this.stmt.notable.run(x);
  }
}
