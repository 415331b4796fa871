// Small helpers of the fanout benchmark: percentiles, CPU share, and its settings
// from the environment (a bad value is refused with a clear message, not guessed at).
import type { CpuSample } from './fanout-hub.ts';

/** The nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) throw new RangeError('no samples');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** CPU time between two samples of one process, in % of one core over the wall time between them. */
export function cpuPercent(a: CpuSample, b: CpuSample): number {
  const wallUs = (b.atMs - a.atMs) * 1000;
  if (wallUs <= 0) throw new RangeError('CPU samples out of order');
  return ((b.cpuUs - a.cpuUs) / wallUs) * 100;
}

/** Meter polls the hub handled per second between two samples. */
export function pollsPerS(a: CpuSample, b: CpuSample): number {
  return ((b.meterPolls - a.meterPolls) / (b.atMs - a.atMs)) * 1000;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A positive whole number from the environment variable `name`, else `fallback`. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not "${raw}"`);
  return n;
}
