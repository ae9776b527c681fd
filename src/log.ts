import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs, on stdout by default (file descriptor `fd`); the token and CA material never reach
 * a log call (see configSummary), and the redaction is a second line of defence.
 */
export function createLogger(level: string, fd = 1): Logger {
  return pino(
    {
      level,
      base: { app: 'kubenurse-ts' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['headers.authorization', '*.headers.authorization', 'token'],
        censor: '[redacted]',
      },
    },
    pino.destination(fd),
  );
}
