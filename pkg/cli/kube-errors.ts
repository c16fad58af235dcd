/** Turning @kubernetes/client-node failures into messages that say what was asked and why it failed. */
import { ApiException } from '@kubernetes/client-node';
import { errorMessage } from '../logger/index.js';

/** The HTTP status of an API server answer, undefined for network errors. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return apiStatus(err) === 404;
}

/** `<code> <Status message>` from an API server answer, or the network error's text. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // not JSON: use the text as is
      }
    }
    const message =
      typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
        ? (body as { message: string }).message
        : typeof body === 'string' && body !== ''
          ? body.slice(0, 200)
          : 'no message';
    return `${err.code} ${message}`;
  }
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined ? `${errorMessage(err)} (${errorMessage(cause)})` : errorMessage(err);
}
