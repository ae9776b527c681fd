import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; the token and CA material never reach a log call (see configSummary). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'kubenurse-ts' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['headers.authorization', '*.headers.authorization', 'token'], censor: '[redacted]' },
  });
}
