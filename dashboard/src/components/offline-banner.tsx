import { texts, useT } from '../i18n.ts';
import { connection } from '../live.ts';
import { useStore } from '../store.ts';
import { fmtDateTime, fmtDuration, useNow } from '../time.ts';

const T = texts({
  offline: ['与服务器断开，自 {since} 起（{ago}）。画面可能不是最新，正在重连…', 'Offline since {since} ({ago} ago). What you see may be out of date; reconnecting…'],
});

/** "Offline since …" while the live connection is down: the screen says when it stopped being current. */
export function OfflineBanner() {
  const t = useT(T);
  const c = useStore(connection);
  const now = useNow();
  if (c.state !== 'offline' || c.offlineSince === undefined) return null;
  return (
    <div class="banner offline" role="status" data-testid="offline-banner">
      {t('offline', { since: fmtDateTime(c.offlineSince), ago: fmtDuration(now - c.offlineSince) })}
    </div>
  );
}
