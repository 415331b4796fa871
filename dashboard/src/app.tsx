import type { ComponentType } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Permission } from '../../gateway/http/permissions.ts';
import { startAlarms } from './alarms-state.ts';
import { startBuilding, site } from './building.ts';
import { AlarmAlerter } from './components/alarm-alerter.tsx';
import { OfflineBanner } from './components/offline-banner.tsx';
import { lang, pick, texts, useT } from './i18n.ts';
import { startLive, stopLive } from './live.ts';
import { LoginPage } from './login.tsx';
import { AlarmsPage } from './pages/alarms.tsx';
import { AuditPage } from './pages/audit.tsx';
import { BillingPage } from './pages/billing.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { IncidentsPage } from './pages/incidents.tsx';
import { LobbyPage } from './pages/lobby.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { TrendsPage } from './pages/trends.tsx';
import { href, useRoute } from './router.ts';
import { loadMe, logout, me, useCan } from './session.ts';
import { useStore } from './store.ts';
import { fmtDateTime, useNow } from './time.ts';

// The shell: login gate, header (site, building clock, user, language), the
// navigation the role may use, the offline banner and the fire-alarm alerter,
// which stay on every page.

const T = texts({
  overview: ['楼宇总览', 'Building'],
  alarms: ['告警', 'Alarms'],
  incidents: ['事件处置', 'Incidents'],
  trends: ['趋势', 'Trends'],
  devices: ['设备通讯', 'Devices'],
  billing: ['抄表收费', 'Billing'],
  lobby: ['大堂屏幕', 'Lobby screens'],
  audit: ['审计日志', 'Audit log'],
  logout: ['退出登录', 'Log out'],
  noAccess: ['此账号无权查看此页。', 'This account may not view this page.'],
  loading: ['加载中…', 'Loading…'],
  controlRoom: ['控制室', 'Control room'],
});

export interface PageProps {
  params: string[];
}

interface PageDef {
  id: keyof typeof T & string;
  component: ComponentType<PageProps>;
  needs: Permission;
}

const PAGES: PageDef[] = [
  { id: 'overview', component: OverviewPage, needs: 'building.read' },
  { id: 'alarms', component: AlarmsPage, needs: 'building.read' },
  { id: 'incidents', component: IncidentsPage, needs: 'building.read' },
  { id: 'trends', component: TrendsPage, needs: 'building.read' },
  { id: 'devices', component: DevicesPage, needs: 'building.read' },
  { id: 'billing', component: BillingPage, needs: 'billing.read' },
  { id: 'lobby', component: LobbyPage, needs: 'building.read' },
  { id: 'audit', component: AuditPage, needs: 'audit.read' },
];

export function App() {
  const session = useStore(me);
  useEffect(() => void loadMe(), []);
  if (session === undefined) return null;
  if (session === null) return <LoginPage />;
  return <ControlRoom />;
}

function ControlRoom() {
  const t = useT(T);
  const can = useCan();
  const route = useRoute();
  const session = useStore(me)!;
  const tree = useStore(site);
  const l = useStore(lang);
  const now = useNow();

  useEffect(() => {
    startBuilding();
    startAlarms();
    startLive();
    return () => stopLive();
  }, []);

  const visible = PAGES.filter((p) => can(p.needs));
  const page = PAGES.find((p) => p.id === route.page);
  const Page = page && can(page.needs) ? page.component : undefined;

  return (
    <div class="shell">
      <header class="top">
        <div class="brand">
          <strong>{tree ? pick(tree.site.name, l) : 'bohub'}</strong> <span class="muted">{t('controlRoom')}</span>
        </div>
        <nav class="nav">
          {visible.map((p) => (
            <a key={p.id} href={href(p.id)} class={p.id === route.page ? 'active' : ''} data-nav={p.id}>
              {t(p.id)}
            </a>
          ))}
        </nav>
        <div class="who">
          <span class="clock" data-testid="clock">{fmtDateTime(now)}</span>
          <button type="button" class="link" data-testid="lang" onClick={() => lang.set(l === 'en' ? 'zh-CN' : 'en')}>
            {l === 'en' ? '中文' : 'EN'}
          </button>
          <span data-testid="user">
            {session.user.displayName} ({session.user.role})
          </span>
          <button type="button" id="logout" onClick={() => void logout().then(() => stopLive())}>
            {t('logout')}
          </button>
        </div>
      </header>
      <OfflineBanner />
      <AlarmAlerter />
      <main class="page" data-page={route.page}>
        {Page ? <Page params={route.params} /> : <p class="error">{t('noAccess')}</p>}
      </main>
    </div>
  );
}
