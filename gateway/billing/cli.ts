import { createReadStream, writeFileSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../clock.ts';
import { loadConfig } from '../config/load.ts';
import { SqliteRecordStore } from '../storage/records.ts';
import { billingPeriod, isPeriodId, localDate, startOfLocalDate } from './calendar.ts';
import { dunningFor } from './dunning-run.ts';
import { dunningLetterHtml, dunningListHtml } from './outputs/dunning.ts';
import { problemsSummary, type ImportReport } from './imports.ts';
import { BillingService } from './service.ts';

// `bohub billing ...`: the month-end work from a shell, on the same records store
// the hub uses (SQLite in WAL mode lets both work at once).

export const BILLING_USAGE = `  bohub billing run --period YYYY-MM [--out DIR] [--close]
                                     bill the period; documents go to DIR/<period>/v<N>/
                                     (default <dataDir>/billing)
  bohub billing close --period YYYY-MM
                                     lock the period's latest version
  bohub billing import readings FILE  load reads (meter_id,read_at,value,kind,serial)
  bohub billing import payments FILE  load payments (unit_id,paid_at,amount,reference)
  bohub billing export readings --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]
  bohub billing export payments [--out FILE]
  bohub billing dunning --period YYYY-MM [--date YYYY-MM-DD] [--out DIR]
                                     the dunning lists and letters as of a date
  every billing command takes --config FILE (default config/demo/building.yaml)`;

const DEFAULT_CONFIG = 'config/demo/building.yaml';

export async function billingCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, period: { type: 'string' }, out: { type: 'string' }, close: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, date: { type: 'string' } },
  });
  const [command, what, file] = positionals;
  const config = loadConfig(values.config ?? DEFAULT_CONFIG);
  const dataDir = resolve(config.building.storage.dataDir);
  const records = SqliteRecordStore.open(dataDir);
  const service = new BillingService(config, records, systemClock);
  const actor = `cli:${userInfo().username}`;
  const tz = config.building.site.timezone;
  try {
    if (command === 'run' && values.period) {
      const report = service.run(values.period, actor);
      const paths = service.writeOutputs(report, values.out ?? join(dataDir, 'billing'));
      const s = JSON.parse(report.files.get('summary.json')!) as { statements: number; held: number; exceptionsOpen: number; totals: { total: string } };
      console.log(`${values.period} v${report.run.version} (${report.outcome}): ${s.statements} statements, ${s.held} held, ${s.exceptionsOpen} open exceptions, billed ${s.totals.total} ${config.building.tariffs.currency}`);
      for (const p of paths) console.log(`  ${p}`);
      if (values.close) console.log(`closed ${values.period} v${service.close(values.period, actor).version}`);
      return 0;
    }
    if (command === 'close' && values.period) return console.log(`closed ${values.period} v${service.close(values.period, actor).version}`), 0;
    if (command === 'import' && file && (what === 'readings' || what === 'payments')) {
      // The CLI has no alarms to hold up: the file is checked in this thread, with no size limit.
      return reportImport(file, await service.imports.upload(what, createReadStream(file), actor, Number.POSITIVE_INFINITY));
    }
    if (command === 'export' && what === 'readings' && values.from && values.to) {
      return output(service.exportReadings(startOfLocalDate(values.from, tz), startOfLocalDate(values.to, tz)), values.out);
    }
    if (command === 'export' && what === 'payments') return output(service.exportPayments(), values.out);
    if (command === 'dunning' && values.period && isPeriodId(values.period)) {
      const date = values.date ?? localDate(Date.now(), tz);
      const period = billingPeriod(values.period, config.building.billing, tz);
      const dir = join(values.out ?? join(dataDir, 'billing'), values.period, 'dunning', date);
      mkdirSync(dir, { recursive: true });
      const ctx = { site: config.building.site, tariffs: config.building.tariffs, billing: config.building.billing, period, version: service.repo.latestRun(values.period)?.version ?? 0 };
      for (const list of dunningFor(service, config.building, values.period, date)) {
        const render = list.id === 'dunning_letters' || list.id === 'owner_letters' ? dunningLetterHtml : dunningListHtml;
        for (const lang of ['zh', 'en'] as const) writeFileSync(join(dir, `${list.id}.${lang}.html`), render(list, ctx, lang));
        writeFileSync(join(dir, `${list.id}.json`), JSON.stringify(list, null, 2) + '\n');
        console.log(`${list.id} (${list.date}${list.needsApproval ? ', needs the director\'s approval' : ''}): ${list.units.length} units`);
      }
      console.log(`  ${dir}`);
      return 0;
    }
    console.error(`usage:\n${BILLING_USAGE}`);
    return 64;
  } finally {
    records.close();
  }
}

function reportImport(file: string, report: ImportReport): number {
  if (report.ok) return console.log(`${file}: ${report.inserted} imported, ${report.duplicates} already there`), 0;
  console.error(`${file}: nothing imported; ${problemsSummary(report)}:`);
  for (const p of report.problems) console.error(`  line ${p.line}: ${p.reason}`);
  return 1;
}

function output(text: string, out?: string): number {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}
