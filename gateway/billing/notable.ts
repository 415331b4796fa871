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
// context a rollover, spike or glitch is judged against). A run of one value that
// lasts a day or more is kept by its first and last read (a frozen meter is judged
// on their span; shorter runs, a water meter overnight, cannot be frozen). A
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
  /** read_at of the first read of the run of this value. */
  run_start: number | null;
}

/** A run of one value this long can be a frozen meter (config billing.frozenDays is at least 2, so 1 day or more). */
const LONG_RUN_MS = 86_400_000;

export class NotableReads {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    /** maxUsePerHour of each meter's profile, in register units. */
    private readonly limits: ReadonlyMap<string, number>,
  ) {
    this.stmt = {
      // Index range seeks on (meter_id, read_at, id): a read's two predecessors, and whether anything is stored at or after its time.
      before: db.prepare('SELECT id, read_at, value, serial, multiplier, run_start FROM billing_reads WHERE meter_id = ? AND read_at <= ? AND id <> ? ORDER BY read_at DESC, id DESC LIMIT 2'),
      runFirst: db.prepare('SELECT id FROM billing_reads WHERE meter_id = ? AND read_at = ? ORDER BY id LIMIT 1').pluck(),
      after: db.prepare('SELECT id FROM billing_reads WHERE meter_id = ? AND read_at >= ? AND id <> ? ORDER BY read_at, id LIMIT 1').pluck(),
      notable: db.prepare('UPDATE billing_reads SET plain = 0 WHERE id = ? AND plain = 1'),
      meterAndTime: db.prepare('SELECT meter_id, read_at FROM billing_reads WHERE id = ?'),
    };
  }

  /**
   * A classifier for one inserting transaction: `judge` says whether a read about
   * to be stored is plain (1) or notable (0), `stored` tells it the read's row id.
   * The last two reads of each meter are remembered within the batch, so a month
   * of one meter's reads, or one read of every meter, costs one seek per meter.
   */
  batch(): { judge(r: NewRead): { plain: 0 | 1; runStart: number }; stored(r: NewRead, id: number, runStart: number): void } {
    const last = new Map<string, Neighbour[]>();
    return {
      judge: (r) => {
        const limit = this.limits.get(r.meterId);
        if (limit === undefined) return { plain: 0, runStart: r.readAt };
        let prev = last.get(r.meterId);
        if (!prev?.[0] || prev[0].read_at >= r.readAt) {
          const later = this.stmt.after.get(r.meterId, r.readAt, -1) as number | undefined;
          const before = this.stmt.before.all(r.meterId, r.readAt, -1) as Neighbour[];
          if (later !== undefined) {
            // Stored out of time order (or beside a read of the same time): it and its neighbours are looked at.
            this.markAround(before[0]?.id, later);
            last.delete(r.meterId);
            return { plain: 0, runStart: r.readAt };
          }
          last.set(r.meterId, (prev = before));
        }
        return this.judge(r, prev, limit);
      },
      stored: (r, id, runStart) => {
        const prev = last.get(r.meterId);
        if (!prev) return;
        prev.unshift({ id, read_at: r.readAt, value: r.value, serial: r.serial, multiplier: r.multiplier, run_start: runStart });
        prev.length = Math.min(prev.length, 2);
      },
    };
  }

  /** A read and its neighbours become notable (an edit changed it). */
  markRead(id: number): void {
    const row = this.stmt.meterAndTime.get(id) as { meter_id: string; read_at: number } | undefined;
    if (!row) return;
    const before = this.stmt.before.all(row.meter_id, row.read_at, id) as Neighbour[];
    this.markAround(id, before[0]?.id, this.stmt.after.get(row.meter_id, row.read_at, id) as number | undefined);
  }

  private judge(r: NewRead, prev: readonly Neighbour[], limit: number): { plain: 0 | 1; runStart: number } {
    const [p] = prev;
    if (!p) return { plain: 0, runStart: r.readAt }; // a meter's first read starts its series
    const rise = Number(r.value) - Number(p.value);
    const hours = (r.readAt - p.read_at) / 3_600_000;
    const plain = r.kind === 'actual' && PLAIN_SOURCES.has(r.source) && r.serial === p.serial && r.multiplier === p.multiplier && hours > 0 && rise >= 0 && rise <= limit * hours;
    const pStart = p.run_start ?? p.read_at;
    const runStart = r.value === p.value ? pStart : r.readAt;
    // A long run is kept by its ends: its first read once it has lasted a day,
    // its last when it ends.
    if (r.value === p.value && r.readAt - pStart >= LONG_RUN_MS && p.read_at - pStart < LONG_RUN_MS) this.markAround(this.stmt.runFirst.get(r.meterId, pStart) as number | undefined);
    if (r.value !== p.value && p.read_at - pStart >= LONG_RUN_MS) this.stmt.notable.run(p.id);
    if (!plain) this.stmt.notable.run(p.id);
    return { plain: plain ? 1 : 0, runStart };
  }

  private markAround(...ids: Array<number | undefined>): void {
    for (const x of ids) if (x !== undefined) this.stmt.notable.run(x);
  }
}
