/**
 * The webhook's serving certificate from files, reloaded when they change on disk (no restart).
 * Watches both files' directories (a Kubernetes Secret volume swaps a symlinked directory, which a
 * watch on the file itself would miss) and re-reads on a fixed interval as a fallback. A new pair is
 * applied only once it parses and the key matches the certificate: a half-written update keeps the
 * previous pair serving.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { DEFAULT_CERT_RELOAD_INTERVAL_MS } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';

export interface CertKeyPair {
  cert: string;
  key: string;
}

export interface TlsFilesOptions {
  certFile: string;
  keyFile: string;
  logger: Logger;
  /** Re-read interval in ms (default 10 s); watching catches most changes sooner. */
  intervalMs?: number;
  /** Called with every new valid pair. */
  onChange: (pair: CertKeyPair) => void;
  /** Called with the outcome of every attempted reload that found different content. */
  onReload?: (outcome: 'ok' | 'invalid') => void;
}

/** Throws a message naming the files when the pair cannot serve TLS. */
export function checkPair(pair: CertKeyPair, certFile: string, keyFile: string): void {
  try {
    createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    throw new Error(
      `TLS certificate ${certFile} / key ${keyFile} are not a usable pair: ${errorMessage(err)}`,
    );
  }
}

/** Reads and checks the pair synchronously (startup: a bad pair is a startup error). */
export function readPairSync(certFile: string, keyFile: string): CertKeyPair {
  let pair: CertKeyPair;
  try {
    pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } catch (err) {
    throw new Error(
      `cannot read TLS files --tls-cert-file ${certFile} / --tls-key-file ${keyFile}: ${errorMessage(err)}`,
    );
  }
  checkPair(pair, certFile, keyFile);
  return pair;
}

export class TlsFileWatcher {
  private current: CertKeyPair;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly opts: TlsFilesOptions,
    initial: CertKeyPair,
  ) {
    this.current = initial;
  }

  get pair(): CertKeyPair {
    return this.current;
  }

  start(): void {
    for (const dir of new Set([dirname(this.opts.certFile), dirname(this.opts.keyFile)])) {
      try {
        const w = watch(dir, () => this.schedule());
        w.on('error', (err) => this.opts.logger.warn(`watching ${dir} failed: ${errorMessage(err)}`));
        this.watchers.push(w);
      } catch (err) {
        this.opts.logger.warn(`cannot watch ${dir}; relying on periodic reload: ${errorMessage(err)}`);
      }
    }
    this.timer = setInterval(
      () => void this.reload(),
      this.opts.intervalMs ?? DEFAULT_CERT_RELOAD_INTERVAL_MS,
    );
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), 50);
    this.debounce.unref();
  }

  /** Re-reads the files now; resolves true when a new pair was applied. Never rejects. */
  reload(): Promise<boolean> {
    // One read at a time; a reload requested meanwhile runs after it.
    const run = async (): Promise<boolean> => {
      if (this.stopped) return false;
      let pair: CertKeyPair;
      try {
        pair = {
          cert: await readFile(this.opts.certFile, 'utf8'),
          key: await readFile(this.opts.keyFile, 'utf8'),
        };
      } catch (err) {
        this.opts.logger.warn(`cannot read TLS files; keeping the current certificate: ${errorMessage(err)}`);
        return false;
      }
      if (pair.cert === this.current.cert && pair.key === this.current.key) return false;
      try {
        checkPair(pair, this.opts.certFile, this.opts.keyFile);
      } catch (err) {
        this.opts.logger.warn(`${errorMessage(err)}; keeping the current certificate`);
        this.opts.onReload?.('invalid');
        return false;
      }
      this.current = pair;
      this.opts.onChange(pair);
      this.opts.onReload?.('ok');
      this.opts.logger.info('reloaded the serving certificate', { certFile: this.opts.certFile });
      return true;
    };
    const next = (this.checking ?? Promise.resolve(false)).then(run, run);
    this.checking = next;
    return next;
  }
}
