import { it } from 'vitest';
import { actors, local, MIN, runbookRig } from '../helpers/runbooks.ts';
const show = (i: any) => console.log(i.runbook, i.variant, i.key, i.level, JSON.stringify(i.steps.map((s: any) => [s.key, s.status, s.dueAt ? new Date(s.dueAt).toISOString() : undefined])), 'notif', JSON.stringify(i.notifications.map((n: any) => [n.reason, n.stepKey, n.roles, n.recipients.map((r: any) => r.name)])));
it('explore', async () => {
  for (const at of ['2026-11-26T10:00', '2026-11-26T22:40']) {
    const rig = await runbookRig({ at });
    rig.signal('FZ-A-12', 'alarm'); show(rig.only()); console.log(JSON.stringify(rig.engine.lobbyMessages()));
    rig.signal('PF-B-1', 'off');
    rig.signal('GS-B-K01', 'alarm');
    rig.signal('WX-TYPHOON', '3');
    rig.signal('LK-A-R04', 'wet'); rig.advance(5000);
    for (const i of rig.engine.list()) show(i);
    for (const id of ['fire-tenant-report','bomb-threat','theft','violence','explosion']) {
      const r = rig.engine.runbooks().find(r => r.id === id)!;
      const fields = Object.fromEntries(r.fields.map(f => [f.id, 'x']));
      show(rig.engine.startRunbook(id, actors.operator, { fields }));
    }
    await rig.close();
  }
}, 60000);
