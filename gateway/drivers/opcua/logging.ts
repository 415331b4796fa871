import { format } from 'node:util';
import { setDebugLogger, setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '../../log.ts';

/**
 * node-opcua prints its own warnings and errors straight to stdout; the hub's logs
 * are pino JSON lines, one per change of state. This routes node-opcua's output
 * into the hub's logger (module 'opcua'), its chatter at debug level.
 */
export function routeOpcuaLogs(log: Logger): void {
  const opcua = log.child({ module: 'opcua' });
  const print = (level: 'debug' | 'warn' | 'error') => (data?: unknown, ...rest: unknown[]) => opcua[level](format(data, ...rest).trim());
  setDebugLogger(print('debug'));
  setWarningLogger(print('warn'));
  setErrorLogger(print('error'));
}
