import { Store } from './store.ts';

// Every call to the hub's REST API. The session rides in the httpOnly cookie the
// login sets; a 401 means the session ended (logout elsewhere, expiry), so the
// page goes back to the login form.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The hub's error code (gateway/http/access.ts), e.g. BOHUB_FORBIDDEN. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Set to true by a 401 from any call: the shell shows the login form. */
export const sessionLost = new Store(false);

export type Query = Record<string, string | number | boolean | undefined | null>;

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Query;
}

/** The parsed JSON answer; a non-2xx answer throws ApiError with the hub's code and message. */
export async function api<T = unknown>(path: string, options: ApiOptions = {}): Promise<T> {
  const init: RequestInit = { method: options.method ?? 'GET', credentials: 'same-origin', headers: {} };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, options.query), init);
  } catch {
    throw new ApiError(0, 'BOHUB_UNREACHABLE', 'the hub cannot be reached');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const body = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && path !== '/api/auth/login') sessionLost.set(true);
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
  }
  return body as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
