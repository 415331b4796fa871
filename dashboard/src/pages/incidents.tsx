import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function IncidentsPage(_props: PageProps) {
  return <p>incidents</p>;
}
