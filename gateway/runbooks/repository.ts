import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { Incident, IncidentState } from './types.ts';

// The incidents table (records migration 4). Incidents carry safety, so they live in
// the records store and change in the same transaction as their audit entry
// (ARCHITECTURE.md: records that carry money or safety go in one transaction).

interface IncidentRow {
  id: number;
  record_json: string;
}

export class IncidentRepository {
  private readonly insertRow;
  private readonly updateRow;
  private readonly upsertSignal;

  constructor(private readonly db: SqliteDb) {
    this.insertRow = db.prepare(
      "INSERT INTO incidents (runbook, dedupe_key, state, priority, opened_at, updated_at, record_json) VALUES (@runbook, @key, @state, @priority, @openedAt, @updatedAt, '{}')",
    );
    this.updateRow = db.prepare('UPDATE incidents SET state = @state, priority = @priority, updated_at = @updatedAt, record_json = @json WHERE id = @id');
    this.upsertSignal = db.prepare(
      'INSERT INTO runbook_signal_state (signal, state, at) VALUES (?, ?, ?) ON CONFLICT (signal) DO UPDATE SET state = excluded.state, at = excluded.at',
    );
  }

  /** Stores a new incident and returns it with its id. */
  insert(incident: Omit<Incident, 'id'>): Incident {
    const info = this.insertRow.run({ runbook: incident.runbook, key: incident.key, state: incident.state, priority: incident.priority, openedAt: incident.openedAt, updatedAt: incident.updatedAt });
    const stored = { ...incident, id: Number(info.lastInsertRowid) } as Incident;
    this.update(stored);
    return stored;
  }

  update(incident: Incident): void {
    this.updateRow.run({ id: incident.id, state: incident.state, priority: incident.priority, updatedAt: incident.updatedAt, json: JSON.stringify(incident) });
  }

  /** Open and stabilised incidents: what the engine holds in memory and times. */
  loadActive(): Incident[] {
    return this.rows("SELECT id, record_json FROM incidents WHERE state <> 'closed' ORDER BY id");
  }

  get(id: number): Incident | undefined {
    const row = this.db.prepare('SELECT id, record_json FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row ? parse(row) : undefined;
  }

  /** Newest first. */
  list(state?: IncidentState, limit = 500): Incident[] {
    return state
      ? this.rows('SELECT id, record_json FROM incidents WHERE state = ? ORDER BY opened_at DESC, id DESC LIMIT ?', state, limit)
      : this.rows('SELECT id, record_json FROM incidents ORDER BY opened_at DESC, id DESC LIMIT ?', limit);
  }

  /** Whether any incident, even a closed one, ever had this key (a holiday's notices open once). */
  keyUsed(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM incidents WHERE dedupe_key = ? LIMIT 1').get(key) !== undefined;
  }

  saveSignalState(signal: string, state: string, at: number): void {
    this.upsertSignal.run(signal, state, at);
  }

  loadSignalStates(): Map<string, string> {
    const rows = this.db.prepare('SELECT signal, state FROM runbook_signal_state').all() as Array<{ signal: string; state: string }>;
    return new Map(rows.map((r) => [r.signal, r.state]));
  }

  private rows(sql: string, ...params: unknown[]): Incident[] {
    return (this.db.prepare(sql).all(...params) as IncidentRow[]).map(parse);
  }
}

function parse(row: IncidentRow): Incident {
  return { ...(JSON.parse(row.record_json) as Incident), id: row.id };
}
