import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function DevicesPage(_props: PageProps) {
  return <p>devices</p>;
}
