/**
 * A Logger without winston, for fsm-healthcheck: winston and its format stack cost 11.4 MiB
 * resident (measured on Node 22.23: a node:http server 46.1 MiB, with winston loaded 57.5 MiB),
 * and fsm-healthcheck runs in every pod with a TCP or gRPC probe, so that is paid once per pod. The
 * lines are winston's (./lines.ts assembles and renders both): the same JSON keys and values, the
 * same readable line. Writes go straight to the stream; close() resolves once the last is flushed.
 */
import { DEFAULT_LOG_LEVEL, type LogLevel } from '../constants/index.js';
import { LEVELS, assembleInfo, jsonLine, readableLine } from './lines.js';
import type { Logger, LoggerOptions } from './logger.js';

/** What a root logger and its children share. */
interface Root {
  stream: NodeJS.WritableStream;
  json: boolean;
  defaultMeta?: Record<string, unknown>;
  /** Writes handed to the stream whose callback has not run yet. */
  pending: number;
  flushed: (() => void)[];
}

class LeanLogger implements Logger {
  /** Set by setLevel on this logger; otherwise the parent's level applies (as winston's children). */
  private ownLevel?: LogLevel;

  constructor(
    private readonly root: Root,
    private readonly parent: LeanLogger | undefined,
    /** Fields of the child() calls that made this logger, outermost first. */
    private readonly children: readonly Record<string, unknown>[],
    level?: LogLevel,
  ) {
    this.ownLevel = level;
  }

  private get level(): LogLevel {
    return this.ownLevel ?? this.parent?.level ?? DEFAULT_LOG_LEVEL;
  }

  private write(level: LogLevel, message: string, meta?: Record<string, unknown>): void {
    if (!this.isLevelEnabled(level)) return;
    const info = assembleInfo(this.children, this.root.defaultMeta, level, message, meta);
    const root = this.root;
    root.pending++;
    root.stream.write(`${root.json ? jsonLine(info) : readableLine(info)}\n`, () => {
      if (--root.pending > 0) return;
      const waiting = root.flushed.splice(0);
      for (const w of waiting) w();
    });
  }

  error(message: string, meta?: Record<string, unknown>): void {
    this.write('error', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.write('warn', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.write('info', message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.write('debug', message, meta);
  }
  trace(message: string, meta?: Record<string, unknown>): void {
    this.write('trace', message, meta);
  }
  child(fields: Record<string, unknown>): Logger {
    return new LeanLogger(this.root, this, [...this.children, fields]);
  }
  isLevelEnabled(level: LogLevel): boolean {
    return LEVELS[level] <= LEVELS[this.level];
  }
  setLevel(level: LogLevel): void {
    this.ownLevel = level;
  }
  close(timeoutMs = 1000): Promise<void> {
    const root = this.root;
    if (root.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      root.flushed.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The lean logger: createLogger's options and lines, without winston. */
export function createLeanLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const json = options.json ?? !(stream as NodeJS.WriteStream).isTTY;
  const root: Root = { stream, json, defaultMeta: options.defaultMeta, pending: 0, flushed: [] };
  return new LeanLogger(root, undefined, [], options.level ?? DEFAULT_LOG_LEVEL);
}
