/** metav1.Status objects: the error body every Kubernetes client decodes. */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; uid?: string };
  code: number;
}

/** An error carrying the Status a handler answers with. */
export class StatusError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

function status(code: number, reason: string, message: string, details?: KubeStatus['details']): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `pods "x" not found` */
export function notFound(group: string, resource: string, name: string): StatusError {
  const qualified = group ? `${resource}.${group}` : resource;
  return status(404, 'NotFound', `${qualified} "${name}" not found`, { name, group, kind: resource });
}

export function alreadyExists(group: string, resource: string, name: string): StatusError {
  const qualified = group ? `${resource}.${group}` : resource;
  return status(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
    name,
    group,
    kind: resource,
  });
}

export function conflict(group: string, resource: string, name: string): StatusError {
  const qualified = group ? `${resource}.${group}` : resource;
  return status(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: resource },
  );
}

/** 422: `Pod "x" is invalid: spec.containers: Required value` */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): StatusError {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = text.length === 1 ? text[0]! : `[${text.join(', ')}]`;
  const qualified = group ? `${kind}.${group}` : kind;
  return status(422, 'Invalid', `${qualified} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({
      reason: c.reason ?? 'FieldValueInvalid',
      message: c.message,
      field: c.field,
    })),
  });
}

export function badRequest(message: string): StatusError {
  return status(400, 'BadRequest', message);
}

export function unauthorized(): StatusError {
  return status(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(message: string): StatusError {
  return status(403, 'Forbidden', message);
}

export function methodNotSupported(message: string): StatusError {
  return status(405, 'MethodNotAllowed', message);
}

export function gone(message: string): StatusError {
  return status(410, 'Expired', message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return status(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format: ${contentType}`,
  );
}

export function internalError(message: string): StatusError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function timeout(message: string): StatusError {
  return status(504, 'Timeout', message);
}

/** Builds a Status for an arbitrary code (fault injection). */
export function statusFor(code: number, message: string): StatusError {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return status(code, reasons[code] ?? 'Unknown', message);
}

export function success(details?: KubeStatus['details']): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details ? { details } : {}),
  };
}
