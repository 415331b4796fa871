import { Store } from './store.ts';

// The control room's horn for fire and other emergency alarms (issue 8), made with the
// Web Audio API: no audio file to fetch, nothing from a CDN. A two-tone pattern
// (high, low) repeats for as long as the siren is on; the alerter turns it on while an
// unacknowledged, unmuted emergency alarm is shown, and off otherwise.
//
// Browsers may refuse sound until the user has clicked the page (autoplay policy): the
// AudioContext then stays 'suspended', and `soundBlocked` tells the alerter to offer a
// "click to enable sound" button. A kiosk wall screen is set up to allow it
// (--autoplay-policy=no-user-gesture-required).

/** Whether the browser is holding the horn back until a click (the context is suspended while the siren is on). */
export const soundBlocked = new Store(false);

/** One cycle of the pattern: two tones and a pause. */
const CYCLE_MS = 1200;
const TONES = [
  { hz: 988, at: 0, for: 0.4 },
  { hz: 784, at: 0.5, for: 0.4 },
] as const;
const VOLUME = 0.25;

let context: AudioContext | undefined;
let unavailable = false;
let timer: ReturnType<typeof setInterval> | undefined;
let playing: OscillatorNode[] = [];

function audio(): AudioContext | undefined {
  if (context || unavailable) return context;
  try {
    context = new AudioContext();
  } catch {
    // No Web Audio (a locked-down browser): the banner still flashes.
    unavailable = true;
    return undefined;
  }
  context.addEventListener('statechange', () => {
    soundBlocked.set(timer !== undefined && context?.state === 'suspended');
    if (timer !== undefined && context?.state === 'running' && playing.length === 0) cycle();
  });
  return context;
}

function tone(ctx: AudioContext, hz: number, start: number, seconds: number): OscillatorNode {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'square';
  osc.frequency.value = hz;
  // A short ramp in and out: no clicks, still a hard-edged alarm tone.
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(VOLUME, start + 0.02);
  gain.gain.setValueAtTime(VOLUME, start + seconds - 0.03);
  gain.gain.linearRampToValueAtTime(0, start + seconds);
  osc.connect(gain).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + seconds);
  osc.addEventListener('ended', () => {
    playing = playing.filter((o) => o !== osc);
    gain.disconnect();
  });
  return osc;
}

/** Plays one two-tone cycle, now; only on a running context, so every start really sounds. */
function cycle(): void {
  const ctx = audio();
  if (!ctx) return;
  if (ctx.state !== 'running') {
    // Asks again each cycle; 'statechange' plays as soon as the browser allows it.
    void ctx.resume().catch(() => undefined);
    soundBlocked.set(ctx.state === 'suspended');
    return;
  }
  soundBlocked.set(false);
  const t = ctx.currentTime + 0.01;
  for (const x of TONES) playing.push(tone(ctx, x.hz, t + x.at, x.for));
}

/** Turns the horn on (repeating until turned off) or off (at once, cutting a tone short). */
export function setSiren(on: boolean): void {
  if (on && timer === undefined) {
    timer = setInterval(cycle, CYCLE_MS);
    cycle();
  } else if (!on && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
    for (const osc of playing) {
      try {
        osc.stop();
      } catch {
        // Already stopped: nothing to cut short.
      }
    }
    playing = [];
    soundBlocked.set(false);
  }
}

/** The "click to enable sound" button: a user gesture lets the context run. */
export async function enableSound(): Promise<void> {
  const ctx = audio();
  if (!ctx) return;
  await ctx.resume();
  soundBlocked.set(false);
  // Sound at once rather than at the next cycle ('statechange' may already have done it).
  if (timer !== undefined && playing.length === 0) cycle();
}

/** Creates the audio context early (right after login, a user gesture), so the first alarm sounds at once. */
export function prepareSound(): void {
  audio();
}
