import type { Clock } from '../clock.ts';
import type { SqliteRecordStore } from '../storage/records.ts';

// A VEE exception a finance user or supervisor has looked at and found right (a
// unit closed over the holidays, a real jump in use). Accepting one lets the next
// run bill the statement; the reason and the person go into the audit log with it.

export interface Acceptance {
  exceptionId: string;
  reason: string;
  actor: string;
  at: number;
}

export class ExceptionAcceptances {
  constructor(
    private readonly records: SqliteRecordStore,
    private readonly clock: Clock,
  ) {}

  accept(exceptionId: string, reason: string, actor: string): Acceptance {
    const acceptance = { exceptionId, reason, actor, at: this.clock.now() };
    this.records.transaction(() => {
      this.records.db.prepare('INSERT OR REPLACE INTO billing_exception_acceptances (exception_id, reason, actor, at) VALUES (?, ?, ?, ?)').run(exceptionId, reason, actor, acceptance.at);
      this.records.appendAudit({ at: acceptance.at, actor, action: 'billing.exception.accept', subject: exceptionId, after: { reason } });
    });
    return acceptance;
  }

  ids(): Set<string> {
    const rows = this.records.db.prepare('SELECT exception_id FROM billing_exception_acceptances').pluck().all() as string[];
    return new Set(rows);
  }

  list(): Acceptance[] {
    return (this.records.db.prepare('SELECT exception_id, reason, actor, at FROM billing_exception_acceptances ORDER BY at, exception_id').all() as Array<{ exception_id: string; reason: string; actor: string; at: number }>).map((r) => ({ exceptionId: r.exception_id, reason: r.reason, actor: r.actor, at: r.at }));
  }
}
