import type { PointValue, Quality } from '../../events.ts';

// The quality of each point of one meter, and what to publish when it changes.
//   good  the last read of the point worked and decoded to a plausible value;
//   bad   the last read failed, decoded to "no value" (NaN) or to a value outside the
//         profile's range, or is a suspect drop of a cumulative register;
//   stale its last good read is older than staleAfterPolls x its poll interval
//         (the device is skipped by the breaker, or its bus is slow); the last
//         good value is republished once, with quality 'stale'.
// Pure bookkeeping, no I/O: the driver feeds it reads and the time.

export interface TrackedPoint {
  id: string;
  unit: string;
  /** The point's poll interval (its class's interval on its bus). */
  pollMs: number;
  /** The billing register: a cumulative counter that only rises (or rolls over). */
  cumulative: boolean;
  /** The physically possible values (from the profile); outside them a value is bad. */
  range?: { min: number; max: number };
}

export interface QualityOptions {
  staleAfterPolls: number;
  /** Consecutive lower reads of a cumulative register accepted as a real reset or rollover (default 3). */
  dropReadsToAccept?: number;
}

export const SUSPECT_ZERO = 'suspect zero';
export const SUSPECT_DROP = 'suspect drop';

interface PointState {
  quality: Quality | 'unknown';
  lastGood?: { value: number; at: number };
  /** Consecutive reads below the last good value of a cumulative register. */
  dropStreak: number;
}

export class PointQualities {
  private readonly states = new Map<string, PointState>();
  private readonly byId: Map<string, TrackedPoint>;

  constructor(
    private readonly device: string,
    points: readonly TrackedPoint[],
    private readonly opts: QualityOptions,
  ) {
    this.byId = new Map(points.map((p) => [p.id, p]));
    for (const p of points) this.states.set(p.id, { quality: 'unknown', dropStreak: 0 });
  }

  /**
   * A read that worked: the decoded value of each point read (null = the device
   * said "no value"). Returns the values to publish, in the order given.
   */
  accept(decoded: ReadonlyMap<string, number | null>, at: number): PointValue[] {
    // One impossible value means the reply itself is garbled (a wrong byte or word
    // order, a corrupted frame): no value in it is trusted, in range or not.
    const implausible = this.implausible(decoded);
    if (implausible) return this.fail(decoded.keys(), implausible, at);
    const out: PointValue[] = [];
    for (const [id, value] of decoded) {
      const point = this.point(id);
      const state = this.states.get(id)!;
      if (value === null) {
        out.push(this.publish(point, state, 'bad', null, at, 'no value (the device sent NaN or infinity)'));
        continue;
      }
      if (point.cumulative && this.suspectDrop(state, value)) {
        // evcc #30267: meters that glitch a cumulative register to 0 (or, garbled, to
        // any lower value) for a read. Billing would see a reset; hold it back until it persists.
        const what = value === 0 ? SUSPECT_ZERO : SUSPECT_DROP;
        out.push(this.publish(point, state, 'bad', null, at, `${what}: read ${value} after ${state.lastGood!.value}`));
        continue;
      }
      state.lastGood = { value, at };
      out.push(this.publish(point, state, 'good', value, at));
    }
    return out;
  }

  /** A read that failed: every point it covered is bad, with the error; never a value. */
  fail(ids: Iterable<string>, error: string, at: number): PointValue[] {
    return [...ids].map((id) => this.publish(this.point(id), this.states.get(id)!, 'bad', null, at, error));
  }

  /**
   * Points whose last good read is too old, republished once as 'stale' with that
   * read's value and time. A bad point stays bad: stale means "old", not "failed".
   */
  expire(now: number): PointValue[] {
    const out: PointValue[] = [];
    for (const [id, state] of this.states) {
      const point = this.point(id);
      if (state.quality !== 'good' || !state.lastGood) continue;
      if (now - state.lastGood.at <= this.opts.staleAfterPolls * point.pollMs) continue;
      const age = Math.round((now - state.lastGood.at) / 1000);
      out.push(this.publish(point, state, 'stale', state.lastGood.value, state.lastGood.at, `last good read ${age} s ago`));
    }
    return out;
  }

  /** Why a read cannot be trusted: the first value outside its point's range. */
  private implausible(decoded: ReadonlyMap<string, number | null>): string | undefined {
    for (const [id, value] of decoded) {
      const { range, unit } = this.point(id);
      if (value !== null && range && (value < range.min || value > range.max))
        return `implausible reply: ${id} = ${value} outside ${range.min}..${range.max} ${unit}`.trimEnd();
    }
    return undefined;
  }

  quality(id: string): Quality | 'unknown' {
    return this.states.get(id)?.quality ?? 'unknown';
  }

  /**
   * True while a cumulative register reads lower than its last good value and the
   * drop has not yet persisted long enough to be believed.
   */
  private suspectDrop(state: PointState, value: number): boolean {
    if (!state.lastGood || value >= state.lastGood.value) {
      state.dropStreak = 0;
      return false;
    }
    state.dropStreak++;
    if (state.dropStreak < (this.opts.dropReadsToAccept ?? 3)) return true;
    // Lower several polls running: a rollover, a reset or a replaced meter. Accept it;
    // billing's validation classifies it (and never subtracts across serial numbers).
    state.dropStreak = 0;
    return false;
  }

  private publish(point: TrackedPoint, state: PointState, quality: Quality, value: number | null, sourceTime: number, error?: string): PointValue {
    state.quality = quality;
    return { device: this.device, point: point.id, value, unit: point.unit, quality, ...(error ? { error } : {}), sourceTime };
  }

  private point(id: string): TrackedPoint {
    const point = this.byId.get(id);
    if (!point) throw new RangeError(`meter ${this.device} has no point "${id}"`);
    return point;
  }
}
