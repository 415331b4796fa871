import { it } from 'vitest';
import { actors, advanceTo, local, MIN, runbookRig, stepsIn } from '../helpers/runbooks.ts';
it('explore', async () => {
  let rig = await runbookRig({ at: '2026-11-26T22:40' });
  rig.signal('FZ-A-09', 'alarm');
  let i = rig.only();
  rig.advance(MIN);
  rig.engine.completeStep(i.id, 'assess', actors.operator, { value: 'false-alarm' });
  rig.engine.completeStep(i.id, 'correction', actors.operator, {});
  rig.engine.stabilise(i.id, actors.supervisor, 'false alarm');
  console.log('after stabilise lobby', rig.engine.lobbyMessages().length, rig.engine.get(i.id)!.state);
  advanceTo(rig, '2026-11-26T23:30');
  rig.signal('FZ-A-03', 'alarm');
  console.log('real fire joins:', rig.engine.list().map(x => [x.key, x.state, x.signals.map(s => s.signal)]), 'lobby', rig.engine.lobbyMessages().length, JSON.stringify(rig.engine.get(i.id)!.steps.map(s => [s.key, s.status])));
  await rig.close();

  rig = await runbookRig({ at: '2026-11-26T10:00' });
  rig.signal('WX-TYPHOON', '4');
  rig.advance(MIN);
  rig.signal('WX-TYPHOON', 'none');
  rig.advance(MIN);
  rig.signal('WX-TYPHOON', '4');
  console.log('typhoon again:', rig.engine.list().map(x => [x.key, x.state, x.level]), 'lobby', rig.engine.lobbyMessages().length);
  await rig.close();

  rig = await runbookRig({ at: '2026-11-26T10:00' });
  rig.signal('PF-A-1', 'off');
  rig.advance(MIN);
  rig.signal('PF-A-1', 'on');
  console.log('power back lobby', rig.engine.lobbyMessages().map(m => m.text.en));
  rig.advance(MIN);
  rig.signal('PF-A-1', 'off');
  console.log('power lost again:', rig.engine.list().map(x => [x.key, x.state]), 'lobby', rig.engine.lobbyMessages().map(m => m.text.en), JSON.stringify(rig.engine.list()[0]!.steps.map(s => [s.key, s.status])));
  await rig.close();
}, 60000);
