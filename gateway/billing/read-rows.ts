import type { NewRead, ReadEdit, ReadKind, ReadSource, StoredRead } from './types.ts';

// How billing_reads rows come back from SQLite (repository.ts) and become StoredReads.

/** [id, read_at, value, packed JSON, note, recorded_at, meter_id] */
export type ReadRow = [number, number, string, string, string | null, number, string];
/** A ReadRow followed by the latest edit's id, value, reason, actor, at (nulls when none). */
export type OneReadRow = [...ReadRow, number | null, string | null, string | null, string | null, number | null];
type Packed = [serial: string, multiplier: string, kind: ReadKind, source: ReadSource, quality: NewRead['quality'], recordedBy: string];
/** [read_id, value, reason, actor, at] */
export type EditRow = [number, string | null, string, string, number];

/** Decodes read rows, parsing each distinct packed column combination once. */
export class ReadDecoder {
  private readonly packed = new Map<string, Packed>();

  decodeAll(rows: ReadRow[], meterId: string, edits: ReadonlyMap<number, ReadEdit>): StoredRead[] {
    const out = new Array<StoredRead>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const read = this.decode(row, meterId);
      if (edits.size > 0) {
        const edit = edits.get(row[0]);
        if (edit) read.edit = edit;
      }
      out[i] = read;
    }
    return out;
  }

  decode(row: ReadRow | OneReadRow, meterId: string): StoredRead {
    let p = this.packed.get(row[3]);
    if (!p) this.packed.set(row[3], (p = JSON.parse(row[3]) as Packed));
    const read: StoredRead = { id: row[0], meterId, serial: p[0], readAt: row[1], value: row[2], multiplier: p[1], kind: p[2], source: p[3], quality: p[4], recordedAt: row[5], recordedBy: p[5] };
    if (row[4] !== null) read.note = row[4];
    return read;
  }
}

export function decodeOne(row: OneReadRow | undefined): StoredRead | undefined {
  if (!row) return undefined;
  const read = new ReadDecoder().decode(row, row[6]);
  if (row[7] !== null) read.edit = { value: row[8], reason: row[9]!, actor: row[10]!, at: row[11]! };
  return read;
}

/** Latest edit per read: rows come in edit order, so later ones overwrite earlier. */
export function editMap(rows: EditRow[]): Map<number, ReadEdit> {
  const edits = new Map<number, ReadEdit>();
  for (const [readId, value, reason, actor, at] of rows) edits.set(readId, { value, reason, actor, at });
  return edits;
}

