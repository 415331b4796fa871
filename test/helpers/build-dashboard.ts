import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { REPO } from './config.ts';

// vitest globalSetup: the hub serves the dashboard from dashboard/dist (Vite's
// output, not committed), so `npm test` builds it first when any source is newer
// than the last build. A fresh clone always builds; an unchanged tree is not rebuilt,
// so test runs side by side do not empty dist under each other.

const DASHBOARD = join(REPO, 'dashboard');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export default async function buildDashboard(): Promise<void> {
  const built = join(DASHBOARD, 'dist', 'index.html');
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((p) => newestMtime(join(DASHBOARD, p)));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources)) return;
  await build({ configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn' });
}
