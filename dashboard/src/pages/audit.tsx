import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function AuditPage(_props: PageProps) {
  return <p>audit</p>;
}
