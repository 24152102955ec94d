import pino, { type Logger } from 'pino';

/** Structured logs. Keys and secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tokenmeter' },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'key',
        'apiKey',
        'secret',
        'password',
        '*.password',
        '*.key',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}
