import type { Clock } from '../clock.ts';

// Counts failed logins per client address in a sliding one-minute window. Only
// failures count, so a room of wall screens behind one address can still log in;
// @fastify/rate-limit counts every request, which is why this small counter is used
// instead (OWASP Authentication Cheat Sheet, "Login throttling").

const WINDOW_MS = 60_000;
/** Cap on tracked addresses, so a flood of spoofed sources cannot grow memory without bound. */
const MAX_TRACKED = 10_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly maxPerMinute: number,
  ) {}

  /** Milliseconds until the address may try again, or 0 when it may try now. */
  retryAfterMs(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.maxPerMinute) return 0;
    // The window reopens when the oldest failure that keeps it full falls out.
    const oldest = recent[recent.length - this.maxPerMinute]!;
    return Math.max(1, oldest + WINDOW_MS - this.clock.now());
  }

  // A success does not clear the count: otherwise one known password would let a
  // client reset the window and keep guessing other accounts' passwords.
  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.clock.now());
    this.failures.set(address, recent);
    if (this.failures.size > MAX_TRACKED) this.prune();
  }

  private recent(address: string): number[] {
    const since = this.clock.now() - WINDOW_MS;
    return (this.failures.get(address) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    const since = this.clock.now() - WINDOW_MS;
    for (const [address, times] of this.failures) if (!times.some((t) => t > since)) this.failures.delete(address);
    // Still too many: forget the oldest entries (Map keeps insertion order).
    for (const address of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED) break;
      this.failures.delete(address);
    }
  }
}
