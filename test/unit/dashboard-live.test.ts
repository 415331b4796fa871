import { expect, it } from 'vitest';
import { connection, onResync, resync } from '../../dashboard/src/live.ts';

// The dashboard's resync (dashboard/src/live.ts): after every connect each part of the
// page reloads from the API. A page opened while that runs must load too; it once waited
// for the next reconnect, and its list never appeared (issue 8).

it('calls a handler registered while a resync is running, and counts the resync', async () => {
  const calls: string[] = [];
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  const offFirst = onResync(async () => {
    calls.push('first');
    await slow;
  });
  const running = resync();
  // The page's next view mounts while the first handler is still waiting on the API.
  const offLate = onResync(() => void calls.push('late'));
  expect(calls).toEqual(['first', 'late']);
  expect(connection.get()).toMatchObject({ state: 'online', syncs: 0 });
  release();
  await running;
  expect(connection.get()).toMatchObject({ state: 'online', syncs: 1 });
  offFirst();
  offLate();
});
