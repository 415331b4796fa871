import { useEffect, useState } from 'preact/hooks';

// Hash routes (#/alarms, #/incidents/12): the hub serves one page, and a wall
// screen's bookmark opens the right view.

export interface Route {
  page: string;
  params: string[];
}

export function parseRoute(hash: string): Route {
  const [page = '', ...params] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { page: page || 'overview', params };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

export function href(page: string, ...params: Array<string | number>): string {
  return `#/${[page, ...params].map((p) => encodeURIComponent(String(p))).join('/')}`;
}

export function navigate(page: string, ...params: Array<string | number>): void {
  location.hash = href(page, ...params);
}
