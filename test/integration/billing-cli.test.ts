import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dec } from '../../gateway/billing/money.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { simulateBillingMonth, type MonthReport } from '../../simulators/billing-month.ts';
import { REPO, smallBuilding, tempDir, writeConfig } from '../helpers/config.ts';

// `bohub billing run` on the demo building after a simulated month (issue 7, done
// when): the statements carry each meter's true use from the simulator's model,
// the month's events (replacement, rollover, glitch, quiet meter, tenant change)
// come out right, and the notices are written in zh and en.

const run = promisify(execFile);
const bohub = (args: string[]) => run('npx', ['tsx', 'gateway/main.ts', 'billing', ...args], { cwd: REPO, env: { ...process.env, BOHUB_LOG_LEVEL: 'silent' } });

describe('bohub billing run after a simulated month', () => {
  let file: string;
  let dataDir: string;
  let month: MonthReport;
  let rows: Array<Record<string, string>>;

  beforeAll(async () => {
    dataDir = tempDir('bohub-billing-cli-');
    file = writeConfig((raw) => {
      smallBuilding(raw, 10);
      raw.storage.dataDir = dataDir;
    });
    const config = loadConfig(file, {});
    const records = SqliteRecordStore.open(dataDir);
    try {
      month = simulateBillingMonth(config, records, '2026-11');
    } finally {
      records.close();
    }
    const { stdout } = await bohub(['run', '--config', file, '--period', '2026-11']);
    expect(stdout).toMatch(/^2026-11 v1 \(new\): 11 statements, 0 held/);
    const csv = readFileSync(join(dataDir, 'billing/2026-11/v1/statements.csv'), 'utf8').replace(/^\uFEFF/, '');
    const [header, ...lines] = csv.trim().split('\n').map((l) => l.split(','));
    rows = lines.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i]!])));
  }, 120_000);

  const row = (unit: string, company?: string) => rows.find((r) => r.unit_id === unit && (!company || r.company === company))!;
  const modelUse = (meterId: string) => {
    const e = month.expected.get(meterId)!;
    return new Dec(e.closing).minus(e.opening).toString();
  };

  it('bills every plain meter exactly the use its simulated model says, to the last digit the meter shows', () => {
    for (const unit of ['A-0101', 'A-0102', 'A-0204']) {
      expect(row(unit).electricity_use).toBe(modelUse(`${unit}-E`));
      expect(row(unit).water_use).toBe(modelUse(`${unit}-W`));
    }
  });

  it('bills across the replaced meter and the rollover without losing or inventing use', () => {
    expect(month.story.replaced).toBe('A-0103-E');
    expect(row('A-0103').electricity_serials).toBe('DDSUA0103 > DDSUA0103-R1');
    const rolled = row(month.story.rollover!.replace(/-E$/, ''));
    expect(Number(rolled.electricity_opening)).toBeGreaterThan(999_000);
    expect(Number(rolled.electricity_use)).toBeGreaterThan(0);
    expect(Number(rolled.electricity_use)).toBeLessThan(2_000);
  });

  it('leaves out the glitch zero, estimates the quiet meter, and splits the tenant change', () => {
    const exceptions = readFileSync(join(dataDir, 'billing/2026-11/v1/exceptions.csv'), 'utf8');
    expect(exceptions).toContain(`${month.story.glitch},glitch_read,false`);
    expect(exceptions).toContain(`${month.story.quiet},estimated,false`);
    expect(row(month.story.glitch!.replace(/-E$/, '')).electricity_use).toBe(modelUse(month.story.glitch!));
    expect(rows.filter((r) => r.unit_id === month.story.tenantChange)).toHaveLength(2);
  });

  it('writes printable notices in zh and en with the due date and the enquiry phone', () => {
    for (const lang of ['zh', 'en']) {
      const html = readFileSync(join(dataDir, `billing/2026-11/v1/notices.${lang}.html`), 'utf8');
      expect(html).toContain('021-60000000');
      expect(html).toMatch(lang === 'zh' ? /2026年12月5日/ : /5 December 2026|2026-12-05/);
      expect(html.match(lang === 'zh' ? /收费通知单/g : /Fee notice/g)!.length).toBeGreaterThanOrEqual(11);
    }
  });

  it('a second run of the same period changes no byte; a bad import names its line and imports nothing', async () => {
    const before = readFileSync(join(dataDir, 'billing/2026-11/v1/notices.zh.html'));
    const { stdout } = await bohub(['run', '--config', file, '--period', '2026-11']);
    expect(stdout).toMatch(/v1 \(unchanged\)/);
    expect(readFileSync(join(dataDir, 'billing/2026-11/v1/notices.zh.html')).equals(before)).toBe(true);
    const bad = join(dataDir, 'bad.csv');
    writeFileSync(bad, 'meter_id,read_at,value,kind,serial\nA-0101-E,2026-11-26T09:00:00+08:00,abc,actual,DDSUA0101\n');
    const failed = await bohub(['import', 'readings', bad, '--config', file]).then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1 });
    expect(failed!.stderr).toMatch(/nothing imported.*\n\s+line 2: .*abc/);
  });
});
