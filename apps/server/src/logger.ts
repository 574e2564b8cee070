import pino, { type Logger } from 'pino';

/** JSON logs; credentials never reach them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'maas' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'req.headers.cookie',
          '*.password',
          '*.current_password',
          '*.api_key',
          '*.apiKey',
          '*.refresh_token',
          '*.access_token',
          '*.key',
          '*.secret',
        ],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
}
