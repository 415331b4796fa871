import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The control-room dashboard (issue 8): Preact + TypeScript, bundled by Vite into
// dashboard/dist, which the hub serves. Everything is bundled or copied from
// public/ (the lobby kiosk page, the icon): no CDN, so it works on a building
// network cut off from the internet.

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Hashed file names: the hub may let browsers cache /assets/* for a long time.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 400,
  },
});
