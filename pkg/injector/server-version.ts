/**
 * What the injector knows of the API server: its version, read from /version through the injector's
 * own kubeconfig at start and every SERVER_VERSION_REFRESH_MS, cached in between (an admission never
 * waits for it). Until the first read succeeds, native sidecars count as unsupported: the classic
 * sidecar works everywhere.
 */
import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { NATIVE_SIDECAR_MIN_VERSION, SERVER_VERSION_REFRESH_MS } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import type { ServerSupport } from './sidecar-mode.js';

export interface ServerVersion {
  major: number;
  minor: number;
  /** As the server says it, e.g. `v1.29.4+k3s1`. */
  gitVersion: string;
}

/**
 * The API server's /version answer as numbers. Providers append to minor (`"29+"` on GKE and EKS):
 * the leading digits count. Undefined when major or minor has no leading digits.
 */
export function parseServerVersion(info: {
  major?: string;
  minor?: string;
  gitVersion?: string;
}): ServerVersion | undefined {
  const major = /^\d+/.exec(info.major ?? '')?.[0];
  const minor = /^\d+/.exec(info.minor ?? '')?.[0];
  if (major === undefined || minor === undefined) return undefined;
  return { major: Number(major), minor: Number(minor), gitVersion: info.gitVersion || `v${major}.${minor}` };
}

/** Kubernetes >= 1.29 runs init containers with restartPolicy Always as native sidecars by default. */
export function runsNativeSidecars(v: ServerVersion): boolean {
  const min = NATIVE_SIDECAR_MIN_VERSION;
  return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
}

/** A fixed answer (tests, and callers that know the version). */
export function serverSupport(v: ServerVersion | undefined): ServerSupport {
  return v
    ? { nativeSidecars: runsNativeSidecars(v), version: v.gitVersion }
    : { nativeSidecars: undefined, version: 'unknown' };
}

export interface ServerVersionSource {
  current(): ServerSupport;
}

/** Reads /version now and then; `current()` is always the last good answer. */
export class ServerVersionWatcher implements ServerVersionSource {
  private version: ServerVersion | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly api: VersionApi;

  constructor(
    kc: KubeConfig,
    private readonly logger: Logger,
    private readonly refreshMs = SERVER_VERSION_REFRESH_MS,
  ) {
    this.api = kc.makeApiClient(VersionApi);
  }

  current(): ServerSupport {
    return serverSupport(this.version);
  }

  /** Reads the version once (never throws), then keeps refreshing it in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      const info = await this.api.getCode();
      const v = parseServerVersion(info);
      if (!v) {
        this.logger.warn('API server /version has no usable major/minor; keeping the last known', {
          major: info.major,
          minor: info.minor,
        });
        return;
      }
      if (this.version?.gitVersion !== v.gitVersion) {
        this.logger.info('API server version', {
          version: v.gitVersion,
          nativeSidecars: runsNativeSidecars(v),
        });
      }
      this.version = v;
    } catch (err) {
      this.logger.warn('cannot read the API server version; native sidecars wait until it is known', {
        error: errorMessage(err),
      });
    }
  }
}
