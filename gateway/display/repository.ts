import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { StoredImage } from './items.ts';
import type { DisplayItem, ItemState } from './types.ts';

// The display tables (records migration 5). What the screens show is a record the
// management office answers for (第七节 二), so it lives in the records store and
// changes in the same transaction as its audit entry.

export interface TemplateApproval {
  templateId: string;
  textSha256: string;
  approvedBy: string;
  approvedAt: number;
  note: string;
}

interface ItemRow {
  id: number;
  record_json: string;
}

/** At most this many items in a list: the archive grows by a few a week (第七节 二.1). */
const LIST_LIMIT = 1000;

export class DisplayRepository {
  private readonly insertRow;
  private readonly updateRow;

  constructor(private readonly db: SqliteDb) {
    this.insertRow = db.prepare("INSERT INTO display_items (state, start_at, end_at, updated_at, record_json) VALUES (@state, @start, @end, @updatedAt, '{}')");
    this.updateRow = db.prepare('UPDATE display_items SET state = @state, start_at = @start, end_at = @end, updated_at = @updatedAt, record_json = @json WHERE id = @id');
  }

  /** Stores a new item and sets its id. */
  insert(item: DisplayItem): DisplayItem {
    item.id = Number(this.insertRow.run({ state: item.state, start: item.start, end: item.end, updatedAt: item.updatedAt }).lastInsertRowid);
    this.update(item);
    return item;
  }

  update(item: DisplayItem): void {
    this.updateRow.run({ id: item.id, state: item.state, start: item.start, end: item.end, updatedAt: item.updatedAt, json: JSON.stringify(item) });
  }

  get(id: number): DisplayItem | undefined {
    const row = this.db.prepare('SELECT id, record_json FROM display_items WHERE id = ?').get(id) as ItemRow | undefined;
    return row ? parse(row) : undefined;
  }

  /** Newest window first. */
  list(state?: ItemState): DisplayItem[] {
    const rows = state
      ? this.db.prepare('SELECT id, record_json FROM display_items WHERE state = ? ORDER BY start_at DESC, id DESC LIMIT ?').all(state, LIST_LIMIT)
      : this.db.prepare('SELECT id, record_json FROM display_items ORDER BY start_at DESC, id DESC LIMIT ?').all(LIST_LIMIT);
    return (rows as ItemRow[]).map(parse);
  }

  count(state?: ItemState): number {
    const row = (state ? this.db.prepare('SELECT count(*) AS n FROM display_items WHERE state = ?').get(state) : this.db.prepare('SELECT count(*) AS n FROM display_items').get()) as { n: number };
    return row.n;
  }

  /** Images are kept by content hash: storing the same image twice stores it once. */
  putImage(image: StoredImage, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO display_images (sha256, mime, bytes, created_at) VALUES (?, ?, ?, ?)').run(image.sha256, image.mime, image.bytes, at);
  }

  image(sha256: string): { mime: string; bytes: Buffer } | undefined {
    return this.db.prepare('SELECT mime, bytes FROM display_images WHERE sha256 = ?').get(sha256) as { mime: string; bytes: Buffer } | undefined;
  }

  approvals(): Map<string, TemplateApproval> {
    const rows = this.db.prepare('SELECT template_id, text_sha256, approved_by, approved_at, note FROM display_template_approvals').all() as Array<Record<string, string | number>>;
    return new Map(rows.map((r) => [String(r.template_id), { templateId: String(r.template_id), textSha256: String(r.text_sha256), approvedBy: String(r.approved_by), approvedAt: Number(r.approved_at), note: String(r.note) }]));
  }

  saveApproval(a: TemplateApproval): void {
    this.db
      .prepare(
        `INSERT INTO display_template_approvals (template_id, text_sha256, approved_by, approved_at, note) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (template_id) DO UPDATE SET text_sha256 = excluded.text_sha256, approved_by = excluded.approved_by, approved_at = excluded.approved_at, note = excluded.note`,
      )
      .run(a.templateId, a.textSha256, a.approvedBy, a.approvedAt, a.note);
  }
}

function parse(row: ItemRow): DisplayItem {
  return { ...(JSON.parse(row.record_json) as DisplayItem), id: row.id };
}
