import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function OverviewPage(_props: PageProps) {
  return <p>overview</p>;
}
