/**
 * The one logger factory of fsm: winston, JSON lines when stdout is not a TTY (what log
 * collectors read), a readable single line otherwise. Every component logs through a child logger
 * that carries a `component` field. `lean: true` writes the same lines without winston (./lean.ts).
 *
 * winston is required on the first createLogger/silentLogger call, not imported: a process that
 * only uses the lean logger (fsm-healthcheck, one per pod) never loads its 11 MiB.
 */
import { createRequire } from 'node:module';
import type winston from 'winston';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel } from '../constants/index.js';
import { createLeanLogger } from './lean.js';
import { LEVELS, readableLine } from './lines.js';

let winstonModule: typeof winston | undefined;
function winstonLib(): typeof winston {
  return (winstonModule ??= createRequire(import.meta.url)('winston') as typeof winston);
}

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  trace(message: string, meta?: Record<string, unknown>): void;
  /** A logger whose lines also carry these fields (e.g. `{ component: 'ads' }`). */
  child(fields: Record<string, unknown>): Logger;
  /** True when a line at this level would be written: guard costly log arguments with it. */
  isLevelEnabled(level: LogLevel): boolean;
  /** Changes the level of this logger and every child. */
  setLevel(level: LogLevel): void;
  /**
   * Ends the logger and resolves once every line has reached its stream (at most `timeoutMs`).
   * Call before process.exit: winston writes through a stream pipeline, and lines still in it
   * when the process exits are lost — typically the one explaining why it exits.
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Force JSON (true) or readable (false) output; default: JSON unless stdout is a TTY. */
  json?: boolean;
  /** Where lines go; default process.stdout. Tests pass a stream to read what was logged. */
  stream?: NodeJS.WritableStream;
  /** Fields on every line, e.g. `{ binary: 'fsm-controller' }`. */
  defaultMeta?: Record<string, unknown>;
  /** The same lines without winston (for fsm-healthcheck, whose memory is paid per pod). */
  lean?: boolean;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function readableFormat(): winston.Logform.Format {
  return winstonLib().format.printf((info) => readableLine(info as Record<string | symbol, unknown>));
}

class WinstonLogger implements Logger {
  /** `root` is the logger that owns the transports (children share it). */
  constructor(
    private readonly w: winston.Logger,
    private readonly root: winston.Logger = w,
  ) {}
  error(message: string, meta?: Record<string, unknown>): void {
    this.w.log('error', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.w.log('warn', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.w.log('info', message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.w.log('debug', message, meta);
  }
  trace(message: string, meta?: Record<string, unknown>): void {
    this.w.log('trace', message, meta);
  }
  child(fields: Record<string, unknown>): Logger {
    return new WinstonLogger(this.w.child(fields), this.root);
  }
  isLevelEnabled(level: LogLevel): boolean {
    return this.w.isLevelEnabled(level);
  }
  setLevel(level: LogLevel): void {
    this.w.level = level;
  }
  close(timeoutMs = 1000): Promise<void> {
    const root = this.root;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (root.writableFinished) return done();
      // 'finish' of the transports, not of the logger: they finish after the last line is written.
      let pending = root.transports.length;
      if (pending === 0) root.once('finish', done);
      for (const t of root.transports) {
        t.once('finish', () => {
          if (--pending === 0) done();
        });
      }
      if (!root.writableEnded) root.end();
    });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  if (options.lean) return createLeanLogger(options);
  const winston = winstonLib();
  const stream = options.stream ?? process.stdout;
  const json = options.json ?? !(stream as NodeJS.WriteStream).isTTY;
  const format = json
    ? winston.format.combine(
        winston.format.timestamp(),
        winston.format.errors({ stack: true }),
        winston.format.json(),
      )
    : winston.format.combine(
        winston.format.timestamp(),
        winston.format.errors({ stack: true }),
        readableFormat(),
      );
  const w = winston.createLogger({
    levels: LEVELS,
    level: options.level ?? DEFAULT_LOG_LEVEL,
    format,
    defaultMeta: options.defaultMeta,
    transports: [new winston.transports.Stream({ stream })],
  });
  return new WinstonLogger(w);
}

/** A logger that writes nothing: for pure-function tests and benchmarks. */
export function silentLogger(): Logger {
  const winston = winstonLib();
  const w = winston.createLogger({
    levels: LEVELS,
    silent: true,
    transports: [new winston.transports.Console()],
  });
  return new WinstonLogger(w);
}

/** Renders an unknown thrown value for a log field. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
