import type { Sample } from './types.ts';

// InfluxDB line protocol, as the v1 /write endpoint reads it
// (InfluxDB 1.x docs, "Line protocol reference"):
//   measurement[,tag=value...] field=value[,field=value...] timestamp
//
// Every sample becomes one point keyed by measurement + tags + timestamp. The
// quality is a string *field* `q`, not a tag: a tag would make it part of the
// series key, so a point re-sent with another quality (or replayed from the
// spool) would become a second point instead of overwriting the first.
// "A point is uniquely identified by the measurement name, tag set, and
// timestamp. If you submit a new point with the same measurement, tag set, and
// timestamp as an existing point, the field set becomes the union of the old
// field set and the new field set" (InfluxDB 1.x docs, "Duplicate points").

/** The field that carries a sample's quality. */
export const QUALITY_FIELD = 'q';
/** The field that carries a sample's value; always written as a float. */
export const VALUE_FIELD = 'value';

/** One point as a line, timestamp in ms (the writer posts with precision=ms). */
export function encodeSample(s: Sample): string {
  let line = escapeMeasurement(s.measurement);
  // Tags sorted by key: the docs recommend it ("sort tags by key before sending
  // them to the database"), and it makes equal tag sets produce equal lines.
  const keys = Object.keys(s.tags).sort();
  for (const k of keys) {
    const v = s.tags[k]!;
    // An empty tag value is not allowed in line protocol; InfluxDB treats a
    // missing tag and an empty one alike, so it is left out.
    if (v === '') continue;
    line += `,${escapeTag(k)}=${escapeTag(v)}`;
  }
  return `${line} ${VALUE_FIELD}=${floatField(s.value)},${QUALITY_FIELD}="${s.quality}" ${Math.round(s.time)}`;
}

/** A batch as one request body, one line per sample. */
export function encodeBatch(samples: readonly Sample[]): string {
  let body = '';
  for (let i = 0; i < samples.length; i++) body += (i ? '\n' : '') + encodeSample(samples[i]!);
  return body;
}

/** Measurements escape commas and spaces. */
function escapeMeasurement(m: string): string {
  return noNewlines(m).replace(/[, ]/g, '\\$&');
}

/** Tag keys and values escape commas, equals signs and spaces. */
function escapeTag(t: string): string {
  return noNewlines(t).replace(/[,= ]/g, '\\$&');
}

/**
 * "Line protocol does not support the newline character \n in tag values or
 * field values" (1.x docs): a newline would end the point there, so it becomes a space.
 */
function noNewlines(s: string): string {
  return s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, ' ') : s;
}

/**
 * A float field. "1" is already a float in line protocol (integers need a
 * trailing i), so every value has one type and a value that happens to be
 * whole cannot cause a field type conflict. Non-finite values never reach here
 * (the writer drops them: line protocol has no NaN or Infinity).
 */
function floatField(v: number): string {
  return String(v);
}
