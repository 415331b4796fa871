import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Quality } from '../events.ts';
import type { Sample } from './types.ts';

// Where telemetry batches wait while the store cannot take them. The disk spool
// is a folder of append-only segment files; every append is fsync'd before it
// counts, so a batch handed to the spool survives a crash or restart of the hub.
// It is bounded: when full, whole segments are dropped oldest first, and the
// points in them are counted (the issue: "the oldest telemetry is dropped and
// counted"; Telegraf's metric_buffer_limit drops the oldest the same way).

/** One spooled batch, handed back in the order it was appended. */
export interface SpoolRecord {
  readonly id: number;
  readonly samples: Sample[];
  readonly oldest: number;
  readonly newest: number;
}

export interface SpoolStats {
  bytes: number;
  points: number;
  /** Source time of the oldest spooled point; undefined when empty. */
  oldest?: number;
}

export interface BatchSpool {
  open(): Promise<void>;
  /** Appends a batch durably; resolves to the number of older points dropped to make room. */
  append(samples: Sample[]): Promise<number>;
  /** The oldest batch not yet acknowledged, the same one until ack(); undefined when empty. */
  head(): Promise<SpoolRecord | undefined>;
  /** The head is stored: forget it. A record dropped meanwhile (spool full) is ignored. */
  ack(record: SpoolRecord): Promise<void>;
  stats(): SpoolStats;
  close(): Promise<void>;
}

// Record: a 28-byte header, then the batch as compact JSON.
//   u32 payload length | u32 CRC-32 of payload | u32 points | f64 oldest | f64 newest
const HEADER = 28;
const SEGMENT = /^seg-(\d{12})\.spool$/;

interface RecordMeta {
  offset: number;
  length: number;
  points: number;
  oldest: number;
  newest: number;
}

interface Segment {
  seq: number;
  path: string;
  records: RecordMeta[];
  /** Index of the next record to hand out (the replay cursor). */
  next: number;
}

export interface DiskSpoolOptions {
  dir: string;
  maxBytes: number;
  /** A segment is closed at this size; default maxBytes/16, between 4 KiB and 8 MiB. Dropping frees one segment at a time. */
  segmentBytes?: number;
}

/**
 * The disk spool. The replay cursor lives in memory only: after a restart the
 * oldest segment is replayed from its start, and the points already stored are
 * written again. That is harmless because points are keyed by measurement, tags
 * and timestamp, so a duplicate overwrites (line-protocol.ts).
 */
export class DiskSpool implements BatchSpool {
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  private active?: { segment: Segment; file: FileHandle; size: number };
  /** The oldest segment's bytes while it is replayed: at most one segment in memory. */
  private loaded?: { seq: number; data: Buffer };
  /** Points skipped because their record failed its checksum. */
  corrupt = 0;
  private nextId = 1;
  /** The record head() handed out: its id, segment and index, until ack(). */
  private heldId = 0;
  private heldSeq = -1;
  private heldIndex = -1;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DiskSpoolOptions) {
    this.segmentBytes = options.segmentBytes ?? Math.min(8 << 20, Math.max(4 << 10, Math.floor(options.maxBytes / 16)));
  }

  /** Finds the segments a previous run left, and cuts a torn last record (a crash mid-append) off each. */
  open(): Promise<void> {
    return this.serial(async () => {
      await mkdir(this.options.dir, { recursive: true });
      const names = (await readdir(this.options.dir)).filter((n) => SEGMENT.test(n)).sort();
      for (const name of names) {
        const segment: Segment = { seq: Number(SEGMENT.exec(name)![1]), path: join(this.options.dir, name), records: [], next: 0 };
        const file = await open(segment.path, 'r+');
        try {
          const size = (await file.stat()).size;
          const header = Buffer.alloc(HEADER);
          let offset = 0;
          while (offset + HEADER <= size) {
            await file.read(header, 0, HEADER, offset);
            const length = header.readUInt32LE(0);
            if (offset + HEADER + length > size) break;
            segment.records.push({ offset, length, points: header.readUInt32LE(8), oldest: header.readDoubleLE(12), newest: header.readDoubleLE(20) });
            offset += HEADER + length;
          }
          if (offset < size) await file.truncate(offset);
        } finally {
          await file.close();
        }
        if (segment.records.length) this.segments.push(segment);
        else await rm(segment.path, { force: true });
      }
    });
  }

  append(samples: Sample[]): Promise<number> {
    return this.serial(async () => {
      const payload = Buffer.from(JSON.stringify(samples.map((s) => [s.measurement, s.tags, s.value, s.quality, s.time])));
      const record = Buffer.alloc(HEADER + payload.length);
      let oldest = Infinity;
      let newest = -Infinity;
      for (const s of samples) {
        if (s.time < oldest) oldest = s.time;
        if (s.time > newest) newest = s.time;
      }
      record.writeUInt32LE(payload.length, 0);
      record.writeUInt32LE(crc32(payload), 4);
      record.writeUInt32LE(samples.length, 8);
      record.writeDoubleLE(oldest, 12);
      record.writeDoubleLE(newest, 20);
      payload.copy(record, HEADER);

      // Make room first, oldest segment first. A record bigger than the whole
      // spool still goes in alone: the newest data is the one worth keeping.
      let dropped = 0;
      while (this.segments.length && this.stats().bytes + record.length > this.options.maxBytes) dropped += await this.dropOldest();

      if (!this.active || this.active.size >= this.segmentBytes) await this.rollActive();
      const active = this.active!;
      await active.file.write(record, 0, record.length, active.size);
      // fsync before the batch counts as spooled: the writer forgets it after this.
      await active.file.sync();
      active.segment.records.push({ offset: active.size, length: payload.length, points: samples.length, oldest, newest });
      active.size += record.length;
      return dropped;
    });
  }

  head(): Promise<SpoolRecord | undefined> {
    return this.serial(async () => {
      for (;;) {
        const segment = this.segments[0];
        if (!segment) return undefined;
        const meta = segment.records[segment.next];
        if (!meta) {
          // Every record of the oldest segment is stored: delete it, unless it is still being appended to.
          if (this.active?.segment === segment) return undefined;
          await this.removeOldest();
          continue;
        }
        if (this.loaded?.seq !== segment.seq) {
          // Replaying the segment that is being appended to: close it so it is read whole and never grows under the cursor.
          if (this.active?.segment === segment) await this.closeActive();
          const file = await open(segment.path, 'r');
          try {
            this.loaded = { seq: segment.seq, data: await file.readFile() };
          } finally {
            await file.close();
          }
        }
        const payload = this.loaded.data.subarray(meta.offset + HEADER, meta.offset + HEADER + meta.length);
        if (payload.length !== meta.length || crc32(payload) !== this.loaded.data.readUInt32LE(meta.offset + 4)) {
          // A damaged record (disk error): skip it rather than block the spool forever.
          segment.next++;
          this.corrupt += meta.points;
          continue;
        }
        const rows = JSON.parse(payload.toString('utf8')) as Array<[string, Record<string, string>, number, Quality, number]>;
        const samples = rows.map(([measurement, tags, value, quality, time]) => ({ measurement, tags, value, quality, time }));
        if (this.heldId === 0 || this.heldSeq !== segment.seq || this.heldIndex !== segment.next) {
          this.heldId = this.nextId++;
          this.heldSeq = segment.seq;
          this.heldIndex = segment.next;
        }
        return { id: this.heldId, samples, oldest: meta.oldest, newest: meta.newest };
      }
    });
  }

  ack(record: SpoolRecord): Promise<void> {
    return this.serial(async () => {
      const segment = this.segments[0];
      if (!segment || record.id !== this.heldId || segment.seq !== this.heldSeq || segment.next !== this.heldIndex) return;
      segment.next++;
      this.heldId = 0;
      if (segment.next >= segment.records.length && this.active?.segment !== segment) await this.removeOldest();
    });
  }

  stats(): SpoolStats {
    let bytes = 0;
    let points = 0;
    let oldest: number | undefined;
    for (const s of this.segments) {
      for (let i = 0; i < s.records.length; i++) {
        const r = s.records[i]!;
        bytes += HEADER + r.length;
        if (i < s.next) continue;
        points += r.points;
        if (oldest === undefined || r.oldest < oldest) oldest = r.oldest;
      }
    }
    return { bytes, points, oldest };
  }

  close(): Promise<void> {
    return this.serial(() => this.closeActive());
  }

  /** Drops the oldest segment to make room; resolves to the points lost with it. */
  private async dropOldest(): Promise<number> {
    const segment = this.segments[0]!;
    const lost = segment.records.slice(segment.next).reduce((n, r) => n + r.points, 0);
    if (this.active?.segment === segment) await this.closeActive();
    await this.removeOldest();
    return lost;
  }

  private async removeOldest(): Promise<void> {
    const segment = this.segments.shift()!;
    if (this.loaded?.seq === segment.seq) this.loaded = undefined;
    await rm(segment.path, { force: true });
  }

  private async rollActive(): Promise<void> {
    await this.closeActive();
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const segment: Segment = { seq, path: join(this.options.dir, `seg-${String(seq).padStart(12, '0')}.spool`), records: [], next: 0 };
    const file = await open(segment.path, 'wx');
    // fsync the folder too, so the new file's name survives a power cut (fsync(2): syncing a file does not sync its directory entry).
    const dir = await open(this.options.dir, 'r');
    await dir.sync().finally(() => dir.close());
    this.segments.push(segment);
    this.active = { segment, file, size: 0 };
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    await active?.file.close();
  }

  /** One spool operation at a time: appends come from the flush timer while the writer replays. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/**
 * The fallback when no spool folder is configured (tests, a store built by
 * hand): the same queue in memory, bounded by a number of points, dropping
 * whole batches oldest first. Nothing survives a restart.
 */
export class MemorySpool implements BatchSpool {
  private records: SpoolRecord[] = [];
  private nextId = 1;
  private points = 0;

  constructor(private readonly maxPoints: number) {}

  async open(): Promise<void> {}

  async append(samples: Sample[]): Promise<number> {
    let dropped = 0;
    while (this.records.length && this.points + samples.length > this.maxPoints) {
      const lost = this.records.shift()!;
      this.points -= lost.samples.length;
      dropped += lost.samples.length;
    }
    const times = samples.map((s) => s.time);
    this.records.push({ id: this.nextId++, samples, oldest: Math.min(...times), newest: Math.max(...times) });
    this.points += samples.length;
    return dropped;
  }

  async head(): Promise<SpoolRecord | undefined> {
    return this.records[0];
  }

  async ack(record: SpoolRecord): Promise<void> {
    if (this.records[0]?.id !== record.id) return;
    this.records.shift();
    this.points -= record.samples.length;
  }

  stats(): SpoolStats {
    return { bytes: 0, points: this.points, oldest: this.records.length ? Math.min(...this.records.map((r) => r.oldest)) : undefined };
  }

  async close(): Promise<void> {}
}
