/**
 * One-line log messages on stderr for the user layer (never the audio
 * layer). Quiet in tests unless PICOMP_LOG=debug.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(scope: string, level: LogLevel = (process.env.PICOMP_LOG as LogLevel) || 'info'): Logger {
  const min = order[level] ?? 1;
  const emit = (lvl: LogLevel, msg: string): void => {
    if (order[lvl] < min) return;
    process.stderr.write(`picomp ${scope}: ${lvl === 'info' ? '' : lvl + ': '}${msg}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

/** A logger that records lines, for tests and for embedding. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}
