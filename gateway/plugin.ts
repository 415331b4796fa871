// The one lifecycle every part of the hub follows (see ../shared/ARCHITECTURE.md):
// the constructor only assigns fields, start() does the I/O, stop() is idempotent
// and removes the plug-in's listeners and timers.

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: HealthStatus;
  detail: string;
}

export interface Plugin {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ComponentHealth;
}

export const ok = (detail = 'running'): ComponentHealth => ({ status: 'ok', detail });
export const degraded = (detail: string): ComponentHealth => ({ status: 'degraded', detail });
export const down = (detail: string): ComponentHealth => ({ status: 'down', detail });
