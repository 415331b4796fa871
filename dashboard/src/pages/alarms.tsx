import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function AlarmsPage(_props: PageProps) {
  return <p>alarms</p>;
}
