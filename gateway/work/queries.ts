import type { IncidentService, IncidentState } from '../runbooks/types.ts';
import { IncidentRepository } from '../runbooks/repository.ts';
import type { SqliteRecordStore } from '../storage/records.ts';
import type { AuditFilter, RecordStore } from '../storage/types.ts';
import type { WorkRunner } from './types.ts';

// Record queries whose answers grow with the building's history (issue 15): the
// audit log's pages and the incident history (up to 500 incidents with their
// timelines). In the hub they are read and serialised in a worker, and the main
// thread only sends the JSON text; tests without threads read the same rows here.

export interface AuditPage {
  filter: AuditFilter;
  /** Entries per page; one more is read to know whether a next page exists. */
  limit: number;
}

export interface RecordQueries {
  /** `{"entries":[...],"next"?:id}`: the audit log newest first, one page. */
  auditPage(page: AuditPage): Promise<string>;
  /** `{"incidents":[...]}`: incidents in a state (any state when absent), newest first. */
  incidentHistory(state?: IncidentState): Promise<string>;
}

/** Through the hub's worker pool. */
export function pooledQueries(runner: WorkRunner): RecordQueries {
  return {
    auditPage: (page) => runner.run<string>({ kind: 'records.audit', page }),
    incidentHistory: (state) => runner.run<string>({ kind: 'records.incidents', ...(state ? { state } : {}) }),
  };
}

/** In this thread, from whatever stores the services hold (tests, fake stores). */
export function directQueries(stores: () => { records: RecordStore; incidents?: IncidentService }): RecordQueries {
  return {
    auditPage: async (page) => auditPageJson(stores().records, page),
    incidentHistory: async (state) => JSON.stringify({ incidents: stores().incidents?.list(state ?? 'all') ?? [] }),
  };
}

/** What a worker answers, on its read-only connection. */
export function runRecordQuery(task: { kind: 'records.audit'; page: AuditPage } | { kind: 'records.incidents'; state?: IncidentState }, records: SqliteRecordStore): string {
  if (task.kind === 'records.audit') return auditPageJson(records, task.page);
  return JSON.stringify({ incidents: new IncidentRepository(records.db).list(task.state) });
}

function auditPageJson(records: RecordStore, { filter, limit }: AuditPage): string {
  const rows = records.listAudit({ ...filter, limit: limit + 1 });
  const entries = rows.slice(0, limit);
  return JSON.stringify(rows.length > entries.length ? { entries, next: entries.at(-1)!.id } : { entries });
}
