// The hub's public HTTP API as the benchmarks' load generators use it: a login as the
// dashboard does it (POST /api/auth/login, then the token as `Authorization: Bearer`
// or in the socket.io handshake), and one request with a deadline, so a frozen hub
// makes a request fail after timeoutMs instead of hanging a bounded loop.

export async function login(http: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login as ${username}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export interface Answer {
  status: number;
  /** The whole body, read to the end (an export is timed until its last byte). */
  body: string;
}

export interface CallOptions {
  /** A JSON body (sent as application/json), or a string sent with `type`. */
  body?: unknown;
  type?: string;
  timeoutMs?: number;
}

/** One request as `token`; throws on a status other than 2xx, naming the route and the hub's answer. */
export async function call(http: string, token: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: string | undefined;
  if (typeof options.body === 'string') {
    body = options.body;
    headers['content-type'] = options.type ?? 'text/plain';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${http}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path.split('?')[0]}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return { status: res.status, body: text };
}

/**
 * The one background job a load process runs between its 'start' and 'finish'
 * calls (fanout-ipc.ts): 'finish' asks it to stop and returns its report.
 */
export class BackgroundJob<R> {
  private running: { state: { stop: boolean }; done: Promise<R> } | undefined;

  constructor(private readonly what: string) {}

  start(run: (state: { stop: boolean }) => Promise<R>): void {
    if (this.running) throw new Error(`${this.what} is already running`);
    const state = { stop: false };
    this.running = { state, done: run(state) };
  }

  async finish(): Promise<R> {
    if (!this.running) throw new Error(`${this.what} is not running`);
    const { state, done } = this.running;
    state.stop = true;
    this.running = undefined;
    return done;
  }

  async stop(): Promise<void> {
    if (this.running) await this.finish();
  }
}
