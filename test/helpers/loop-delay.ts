import type { LoopDelaySampler } from '../../gateway/loop-health.ts';

/** A sampler for the fake clock: every interval is 100 samples whose p99 is `p99Ms`. */
export function scriptedSampler(): LoopDelaySampler & { p99Ms: number } {
  return {
    p99Ms: 1,
    enable() {},
    disable() {},
    take() {
      return [...Array<number>(98).fill(0.5), this.p99Ms, this.p99Ms];
    },
  };
}

/** The test-only hook that holds the main thread, as a long synchronous task would. */
export function holdEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy: nothing else runs on this thread meanwhile */
  }
}
