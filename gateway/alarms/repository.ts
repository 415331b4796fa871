import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { RecordStore } from '../storage/types.ts';
import type { Alarm } from './types.ts';

// The alarms table (records migration 2). Alarms carry safety, so they live in the
// records store and change in the same transaction as their audit entry
// (ARCHITECTURE.md: records that carry money or safety go in one transaction).

/** The records store with its database, which the alarms tables live in (SqliteRecordStore). */
export type AlarmRecords = RecordStore & { readonly db: SqliteDb };

export interface SeenSignal {
  seq?: number;
  sourceTime: number;
  state: string;
}

interface AlarmRow {
  id: number;
  record_json: string;
}

interface SeenRow {
  signal: string;
  seq: number | null;
  source_time: number;
  state: string;
}

export class AlarmRepository {
  private readonly insertRow;
  private readonly updateRow;
  private readonly upsertSeen;

  constructor(private readonly db: SqliteDb) {
    this.insertRow = db.prepare(
      "INSERT INTO alarms (condition, state, priority, raised_at, updated_at, record_json) VALUES (@condition, @state, @priority, @raisedAt, @updatedAt, '{}')",
    );
    this.updateRow = db.prepare('UPDATE alarms SET state = @state, priority = @priority, updated_at = @updatedAt, record_json = @json WHERE id = @id');
    this.upsertSeen = db.prepare(
      'INSERT INTO alarm_signal_seen (signal, seq, source_time, state) VALUES (?, ?, ?, ?) ON CONFLICT (signal) DO UPDATE SET seq = excluded.seq, source_time = excluded.source_time, state = excluded.state',
    );
  }

  /** Inserts a new episode and returns it with its id. */
  insert(alarm: Omit<Alarm, 'id'>): Alarm {
    const info = this.insertRow.run({ condition: alarm.condition, state: alarm.state, priority: alarm.priority, raisedAt: alarm.raisedAt, updatedAt: alarm.updatedAt });
    const stored: Alarm = { id: Number(info.lastInsertRowid), ...alarm };
    this.update(stored);
    return stored;
  }

  update(alarm: Alarm): void {
    this.updateRow.run({ id: alarm.id, state: alarm.state, priority: alarm.priority, updatedAt: alarm.updatedAt, json: JSON.stringify(alarm) });
  }

  /** Every episode that is not over: what the engine holds in memory. */
  loadOpen(): Alarm[] {
    return (this.db.prepare("SELECT id, record_json FROM alarms WHERE state <> 'normal'").all() as AlarmRow[]).map(parse);
  }

  get(id: number): Alarm | undefined {
    const row = this.db.prepare('SELECT id, record_json FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
    return row ? parse(row) : undefined;
  }

  /** The most recent episodes in any state, newest first. */
  recent(limit: number): Alarm[] {
    return (this.db.prepare('SELECT id, record_json FROM alarms ORDER BY raised_at DESC, id DESC LIMIT ?').all(limit) as AlarmRow[]).map(parse);
  }

  saveSeen(signal: string, seen: SeenSignal): void {
    this.upsertSeen.run(signal, seen.seq ?? null, seen.sourceTime, seen.state);
  }

  loadSeen(): Map<string, SeenSignal> {
    const rows = this.db.prepare('SELECT signal, seq, source_time, state FROM alarm_signal_seen').all() as SeenRow[];
    return new Map(rows.map((r) => [r.signal, { ...(r.seq === null ? {} : { seq: r.seq }), sourceTime: r.source_time, state: r.state }]));
  }
}

function parse(row: AlarmRow): Alarm {
  return { ...(JSON.parse(row.record_json) as Alarm), id: row.id };
}
