// JSON logs with winston. Secrets and whole objects are never logged at info: callers pass identifiers.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', component = 'asya-webhook'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
