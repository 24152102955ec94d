import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs. Keys and secrets are redacted wherever they appear in a logged object.
 * `destination`: where to write (default stdout); tests pass one to read what was logged.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
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
    },
    destination,
  );
}
