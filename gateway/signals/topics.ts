// MQTT topic filter matching, as the spec defines it (MQTT 3.1.1 §4.7):
// "+" matches exactly one level, "#" the parent level and any number below it
// [MQTT-4.7.1-2], and a filter starting with a wildcard never matches a topic
// starting with "$" [MQTT-4.7.2-1].

/** Does the topic name match the filter? */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Could some topic match both filters? Used to allow a subscription only where it
 * overlaps what the client may read; authorizeForward then filters each message.
 */
export function filtersOverlap(a: string, b: string): boolean {
  if ((a.startsWith('$') && isWild(b[0])) || (b.startsWith('$') && isWild(a[0]))) return false;
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (x[i] === undefined || y[i] === undefined) return false;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
  return true;
}

function isWild(c: string | undefined): boolean {
  return c === '+' || c === '#';
}

/** Replaces the config's "{site}" placeholder. */
export function expandSite(filter: string, site: string): string {
  return filter.replaceAll('{site}', site);
}
