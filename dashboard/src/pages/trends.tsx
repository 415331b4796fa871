import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function TrendsPage(_props: PageProps) {
  return <p>trends</p>;
}
