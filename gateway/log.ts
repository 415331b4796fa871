import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The hub's root logger. Children are namespaced by module
 * (`log.child({ module: 'modbus', bus: 'A-low' })`); logs record changes of
 * state, never one line per poll (CONVENTIONS.md habit 3).
 */
export function createLogger(level = process.env.BOHUB_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'bohub' } });
}

/** A logger that writes nothing: for tests that do not inspect logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
