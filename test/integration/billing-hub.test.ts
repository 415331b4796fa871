import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

// Billing reads in a running hub, over real Modbus TCP to the simulated meters:
// the interval reads land in the records store, and the reading-day snapshot
// reads every meter now, falls back to the latest good read for a dead meter
// (flagged), and names a meter it could not read at all.

describe('billing reads in the hub (issue 7)', () => {
  let hub: Hub;
  const all = (meterId: string) => hub.parts.billing!.service.repo.readsOf(meterId, 0, Date.now() + 3_600_000);

  beforeAll(async () => {
    hub = new Hub({ config: loadConfig(hubTestConfig(2), {}), log: silentLogger });
    await hub.start();
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it('keeps an interval read of every billing register in the records store, as the meter shows it', async () => {
    const reads = await waitFor('interval reads', async () => (all('A-0101-E').length && all('A-0101-W').length ? all('A-0101-E') : undefined), 15_000);
    expect(reads[0]).toMatchObject({ source: 'interval', kind: 'actual', serial: 'DDSUA0101', quality: 'good' });
    expect(reads[0]!.value).toMatch(/^\d+\.\d{2}$/);
    expect(all('A-0101-W')[0]!.value).toMatch(/^\d+\.\d{3}$/);
  });

  it('snapshots every meter with a fresh read over Modbus on the reading day', async () => {
    const boundary = Date.now();
    const report = await hub.parts.billing!.snapshot(boundary);
    expect(report).toMatchObject({ fresh: 4, fallback: 0, failed: [] });
    const snap = all('A-0102-E').filter((r) => r.source === 'snapshot');
    expect(snap).toHaveLength(1);
    const simulated = hub.parts.modbusSim!.meterValue('A-0102-E', 'energy_import')!;
    expect(Math.abs(Number(snap[0]!.value) - simulated)).toBeLessThan(simulated * 0.01);
    expect(hub.services().records.listAudit({ action: 'billing.snapshot' })).toHaveLength(1);
  });

  it('falls back to the latest good read for a meter that stopped answering, and says so on the read', async () => {
    await waitFor('a good latest value', async () => hub.latest.get('A-0102-W', 'volume')?.quality === 'good' || undefined, 10_000);
    hub.parts.modbusSim!.injectFault('A-0102-W', { kind: 'timeout' });
    const report = await hub.parts.billing!.snapshot(Date.now());
    expect(report.fallback).toBe(1);
    const fallback = all('A-0102-W').find((r) => r.source === 'fallback')!;
    expect(fallback.note).toMatch(/fresh read failed \(.*\); latest good read \d+ min old/);
  });

  it('names a meter it could not read at all when its latest good read is older than the tolerance', async () => {
    const report = await hub.parts.billing!.snapshot(Date.now() + 48 * 3_600_000);
    expect(report.failed.map((f) => f.meterId)).toEqual(['A-0102-W']);
    expect(report.failed[0]!.reason).toMatch(/BOHUB_MODBUS|timed out|timeout/i);
  });
});
