import { BohubError, describeError } from '../errors.ts';

// The InfluxDB v1 HTTP API, as much as the hub needs: POST /write with line
// protocol and GET/POST /query with InfluxQL. It is the API InfluxDB 1.x serves,
// and the one the v1 compatibility endpoints of InfluxDB 2/3 and VictoriaMetrics
// serve too.
//
// Why not the `influx` package: measured against influxd 1.6.7 on loopback
// (bench/storage.bench.ts), its writePoints reached about 0.6x the points/s of
// the same 5,000-point batches POSTed as raw line protocol; the issue's target
// for this writer is 0.8x. It also hides the HTTP status, which the writer needs
// to tell "retry later" (network, 5xx, 429) from "never retry" (400).

export interface InfluxHttpOptions {
  /** e.g. `http://influxdb:8086`; a path is kept, for an InfluxDB behind a reverse proxy. */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per request; default 10 s. */
  requestTimeoutMs?: number;
}

/**
 * A telemetry write that failed. `retryable` says whether the same batch may
 * succeed later: network errors, timeouts, 5xx and 429 may; a 400 (a field type
 * conflict, a line InfluxDB cannot parse) never will, and is dead-lettered.
 */
export class TelemetryWriteError extends BohubError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
    /** Points InfluxDB refused in a partial write ("... dropped=N"); the rest of the batch is stored. */
    readonly dropped?: number,
  ) {
    super('BOHUB_TELEMETRY_WRITE', message, options);
  }
}

export interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns?: string[];
  values?: unknown[][];
}

export class InfluxHttp {
  private readonly base: string;
  private readonly auth?: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: InfluxHttpOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB url "${options.url}" is not a url`, { cause: err });
    }
    const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    // Basic auth rather than u=&p= in the query string, so credentials stay out of proxy logs.
    if (username !== undefined) this.auth = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** The server, without credentials: for messages and health. */
  where(): string {
    return this.base;
  }

  /** POSTs line protocol with ms timestamps; rp is the retention policy, default the database's. Throws TelemetryWriteError. */
  async write(lines: string, rp?: string): Promise<void> {
    const params = new URLSearchParams({ db: this.options.database, precision: 'ms' });
    if (rp) params.set('rp', rp);
    const res = await this.request(`/write?${params}`, { method: 'POST', body: lines, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    if (res.status === 204 || res.status === 200) {
      await res.body?.cancel();
      return;
    }
    const text = (await res.text()).slice(0, 1000).trim();
    // 5xx: the server is unwell; 429: it asks us to slow down (VictoriaMetrics, InfluxDB
    // Cloud); both are worth retrying. Any other 4xx is about the batch itself (400 bad
    // points, 413 too large) or about us (401, 403, 404 no database): retrying the same
    // bytes cannot help, except that 401/403/404 are configuration, fixed by a person,
    // so they are retried too rather than dead-lettering everything meanwhile.
    const retryable = res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 403 || res.status === 404;
    const dropped = /dropped=(\d+)/.exec(text);
    throw new TelemetryWriteError(`InfluxDB at ${this.base} answered ${res.status} to a write: ${errorText(text)}`, retryable, res.status, undefined, dropped ? Number(dropped[1]) : undefined);
  }

  /** Runs InfluxQL; statements that change things (CREATE, ALTER, DROP) must use POST (1.x docs, /query). */
  async query(q: string, options: { post?: boolean; epoch?: 'ms' } = {}): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ db: this.options.database, q });
    if (options.epoch) params.set('epoch', options.epoch);
    const res = options.post
      ? await this.request('/query', { method: 'POST', body: params, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      : await this.request(`/query?${params}`, { method: 'GET' });
    const text = await res.text();
    if (res.status !== 200) throw new TelemetryWriteError(`InfluxDB at ${this.base} answered ${res.status} to a query: ${errorText(text)}`, res.status >= 500 || res.status === 429, res.status);
    const body = JSON.parse(text) as { error?: string; results?: Array<{ error?: string; series?: InfluxSeries[] }> };
    if (body.error) throw new TelemetryWriteError(`InfluxDB query failed: ${body.error}`, false);
    for (const r of body.results ?? []) if (r.error) throw new TelemetryWriteError(`InfluxDB query failed: ${r.error}`, false);
    return (body.results ?? []).flatMap((r) => r.series ?? []);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.base + path, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...(this.auth ? { authorization: this.auth } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // fetch hides the socket error in err.cause (ECONNREFUSED, ECONNRESET, ...).
      const cause = (err as { cause?: unknown }).cause ?? err;
      throw new TelemetryWriteError(`InfluxDB at ${this.base} is unavailable: ${describeError(cause)}`, true, undefined, { cause: err });
    }
  }
}

/** InfluxDB answers errors as {"error": "..."}; anything else is shown as it came. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    /* not JSON */
  }
  return text || '(empty body)';
}

/**
 * An InfluxQL identifier in double quotes. InfluxQL reads `\` as an escape inside
 * quoted identifiers, so backslashes are doubled as well as quotes escaped.
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * An InfluxQL string literal. Backslashes are doubled too: InfluxQL reads `\` as
 * the start of an escape sequence, so a tag value containing one would fail or
 * match the wrong thing.
 */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
