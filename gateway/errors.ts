// Errors carry a stable code (as fastify's lib/errors.js does), so logs, health
// details and API answers can be matched on the code rather than the wording.

export type ErrorCode =
  | 'BOHUB_CONFIG_INVALID'
  | 'BOHUB_CONFIG_UNREADABLE'
  | 'BOHUB_PORT_IN_USE'
  | 'BOHUB_DATA_DIR_UNWRITABLE'
  | 'BOHUB_RECORDS_UNAVAILABLE'
  | 'BOHUB_DEMO_PASSWORD'
  | 'BOHUB_MODBUS_TIMEOUT'
  | 'BOHUB_MODBUS_EXCEPTION'
  | 'BOHUB_MODBUS_CONNECT'
  | 'BOHUB_MODBUS_MALFORMED'
  | 'BOHUB_SOCAT_FAILED'
  | 'BOHUB_PAYLOAD_INVALID'
  | 'BOHUB_TELEMETRY_WRITE'
  | 'BOHUB_WORK_FAILED';

export class BohubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BohubError';
  }
}

export function describeError(err: unknown): string {
  if (err instanceof BohubError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ${err.message}` : err.message;
  return String(err);
}
