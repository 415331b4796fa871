import type { PageProps } from '../app.tsx';

// Stub: replaced by the page's owner.
export function LobbyPage(_props: PageProps) {
  return <p>lobby</p>;
}
