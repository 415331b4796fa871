import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function BillingPage(_props: PageProps) {
  return <p>billing</p>;
}
