import { z } from 'zod';
import type { SignalMappingConfig } from '../config/schema.ts';
import { SIGNAL_STATES, isSignalState, type SignalKind } from './states.ts';

// Payload decoders for safety signals. Pure functions: they never throw, whatever
// arrives (fuzzed in test/unit/signals-decode.test.ts); a bad payload comes back
// as { ok: false, reason } for the driver to count and name.

/** Safety payloads are tiny; anything larger is refused before it is parsed. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export type Decoded = { ok: true; state: string; sourceTime?: number; seq?: number } | { ok: false; reason: string };

/** A signal mapping from config, with its value map made safe to look up. */
export interface CompiledMapping {
  format: 'json' | 'text';
  pointer: string;
  /** Vendor value (as text) to normalised state; a Map, so "__proto__" is just a key. */
  values?: ReadonlyMap<string, string>;
  seqPointer?: string;
  timePointer?: string;
}

export function compileMapping(m: Pick<SignalMappingConfig, 'format' | 'pointer' | 'values' | 'seqPointer' | 'timePointer'>): CompiledMapping {
  return { format: m.format, pointer: m.pointer, values: m.values ? new Map(Object.entries(m.values)) : undefined, seqPointer: m.seqPointer, timePointer: m.timePointer };
}

const defaultPayload = z.object({
  state: z.string().max(64),
  ts: z.number().int().positive().optional(),
  seq: z.number().int().min(0).optional(),
});

/** The default layout's payload: {"state": "...", "ts": <ms epoch>, "seq": <n>}. */
export function decodeDefault(payload: Uint8Array, kind: SignalKind): Decoded {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const parsed = defaultPayload.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') };
  const { state, ts, seq } = parsed.data;
  if (!isSignalState(kind, state)) return { ok: false, reason: `state "${state}" is not one of ${SIGNAL_STATES[kind].join(', ')}` };
  return { ok: true, state, sourceTime: ts, seq };
}

/** A vendor payload decoded by its mapping: a JSON pointer (or the whole text) and a value map. */
export function decodeMapped(payload: Uint8Array, kind: SignalKind, m: CompiledMapping): Decoded {
  let raw: unknown;
  let doc: unknown;
  if (m.format === 'text') {
    if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload of ${payload.length} bytes is over ${MAX_PAYLOAD_BYTES}` };
    raw = Buffer.from(payload).toString('utf8').trim();
  } else {
    const json = parseJson(payload);
    if (!json.ok) return json;
    doc = json.value;
    const at = resolvePointer(doc, m.pointer);
    if (!at.found) return { ok: false, reason: `nothing at ${m.pointer || '(whole payload)'}` };
    raw = at.value;
  }
  const text = asText(raw);
  if (text === undefined) return { ok: false, reason: `the value at ${m.pointer || '(whole payload)'} is not a string, number or boolean` };
  const state = m.values ? m.values.get(text) : text;
  if (state === undefined) return { ok: false, reason: `vendor value "${clip(text)}" is not in the value map` };
  if (!isSignalState(kind, state)) return { ok: false, reason: `state "${clip(state)}" is not one of ${SIGNAL_STATES[kind].join(', ')}` };

  const out: Decoded = { ok: true, state };
  if (m.seqPointer !== undefined) {
    const seq = resolvePointer(doc, m.seqPointer);
    const n = seq.found ? Number(asText(seq.value)) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) return { ok: false, reason: `no sequence number at ${m.seqPointer}` };
    out.seq = n;
  }
  if (m.timePointer !== undefined) {
    const t = resolvePointer(doc, m.timePointer);
    const ms = t.found ? toEpochMs(t.value) : undefined;
    if (ms === undefined) return { ok: false, reason: `no source time at ${m.timePointer}` };
    out.sourceTime = ms;
  }
  return out;
}

/** The LWT/status topic: "online" or "offline" (plain, or as a JSON string). */
export function decodeSourceStatus(payload: Uint8Array): { ok: true; status: 'online' | 'offline' } | { ok: false; reason: string } {
  if (payload.length > 64) return { ok: false, reason: `status payload of ${payload.length} bytes` };
  const text = Buffer.from(payload).toString('utf8').trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  if (text === 'online' || text === 'offline') return { ok: true, status: text };
  return { ok: false, reason: `status "${clip(text)}" is neither online nor offline` };
}

/** A heartbeat may carry anything small; a JSON {"ts": n} gives its source time. */
export function decodeHeartbeat(payload: Uint8Array): { ok: true; sourceTime?: number } | { ok: false; reason: string } {
  if (payload.length > 1024) return { ok: false, reason: `heartbeat payload of ${payload.length} bytes` };
  const json = parseJson(payload);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return { ok: true };
  const ts = resolvePointer(json.value, '/ts');
  return { ok: true, sourceTime: ts.found ? toEpochMs(ts.value) : undefined };
}

/**
 * RFC 6901 JSON pointer lookup. Only own properties are followed, so "/__proto__"
 * or "/constructor" never reach Object.prototype.
 */
export function resolvePointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  if (!pointer.startsWith('/')) return { found: false };
  let at: unknown = doc;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~'); // RFC 6901 §4: ~1 first, then ~0
    if (Array.isArray(at)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= at.length) return { found: false };
      at = at[Number(key)];
    } else if (typeof at === 'object' && at !== null && Object.hasOwn(at, key)) {
      at = (at as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: at };
}

function parseJson(payload: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload of ${payload.length} bytes is over ${MAX_PAYLOAD_BYTES}` };
  try {
    // JSON.parse makes "__proto__" an own property, never the prototype; the
    // decoders then read own properties only.
    return { ok: true, value: JSON.parse(Buffer.from(payload).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= 256 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

function toEpochMs(v: unknown): number | undefined {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : NaN;
  // 8.64e15 ms is the largest time a JavaScript Date can hold (ECMA-262 §21.4.1.1).
  return Number.isFinite(ms) && ms > 0 && ms <= 8.64e15 ? Math.round(ms) : undefined;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
