/**
 * The Kubernetes verbs over the store, for a routed request: get, list and watch (list-watch.ts),
 * create (generateName, defaulting, admission, validation), update and the three patch types plus
 * simplified server-side apply (server-owned fields, the status subresource's rules, optimistic
 * concurrency, no-op detection), delete with preconditions, deletecollection; dryRun=All throughout.
 * createObject and deleteObject give in-process callers the same semantics without HTTP.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, Store } from './store.js';
import type { ResourceRoute } from './router.js';
import type { Controls } from './controls.js';
import type { AdmissionHook } from './admission.js';
import { apiVersionOf, findResource, resourceKey, type ResourceInfo } from './resources.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  internalError,
  notFound,
  statusFor,
  unsupportedMediaType,
} from './status.js';
import { applyPatch, strategicMergePatch } from './patch.js';
import {
  applyDefaults,
  assertValid,
  carryMetadata,
  initMetadata,
  isObj,
  kubeTime,
  randomSuffix,
  sameObject,
} from './objects.js';
import { PROTOBUF_CONTENT_TYPE, decodeKubeProtobuf } from './protobuf.js';
import { list, selectorFilter, tableOptions, watch, type ListWatchOptions } from './list-watch.js';
import { toTable } from './table.js';
import { toScale, withScale } from './scale.js';
import { readBody, readRaw, sendJson, warningHeaders } from './http-io.js';

type O = Record<string, unknown>;

/** The part of a route the verbs work on. */
type Target = Pick<ResourceRoute, 'info' | 'key' | 'namespace' | 'name' | 'subresource'>;

export interface VerbsOptions extends ListWatchOptions {
  store: Store;
  controls: Controls;
  /** The kinds served (a deleted namespace takes their objects with it). */
  resources: readonly ResourceInfo[];
  /** The admission hook in force (read per request: it may be installed after start). */
  admission: () => AdmissionHook | undefined;
}

const isDryRun = (q: URLSearchParams): boolean => q.getAll('dryRun').includes('All');

/** DeleteOptions.propagationPolicy from the body or the query (orphanDependents=true is Orphan). */
function propagationPolicy(q: URLSearchParams, body: unknown): string | undefined {
  const b = isObj(body) ? body : {};
  if (typeof b['propagationPolicy'] === 'string') return b['propagationPolicy'];
  if (b['orphanDependents'] === true || q.get('orphanDependents') === 'true') return 'Orphan';
  return q.get('propagationPolicy') ?? undefined;
}

export class Verbs {
  private readonly store: Store;
  private readonly controls: Controls;

  constructor(private readonly o: VerbsOptions) {
    this.store = o.store;
    this.controls = o.controls;
  }

  /** Answers one routed resource request (connect subresources are the server's, not ours). */
  async serve(r: ResourceRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (r.verb) {
      case 'get':
        return this.get(req, res, r);
      case 'list':
        return list(this.o, r, req, res);
      case 'watch':
        return watch(this.o, r, req, res);
      case 'create':
        return this.create(req, res, r);
      case 'update':
        return this.update(req, res, r);
      case 'patch':
        return this.patch(req, res, r);
      case 'delete':
        return this.delete(req, res, r);
      case 'deletecollection':
        return this.deleteCollection(res, r);
      case 'connect':
        throw internalError(`${r.key}/${r.subresource ?? ''} has no handler`);
    }
  }

  /** One object; a Table of one row when kubectl asks for one (`kubectl get pod x` shows READY). */
  private get(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): void {
    this.controls.check('get', r.key);
    const obj = this.mustGet(r);
    if (r.subresource === 'scale') {
      sendJson(res, 200, toScale(obj));
      return;
    }
    const table = r.subresource === undefined ? tableOptions(req, r.query) : undefined;
    if (!table) {
      sendJson(res, 200, obj);
      return;
    }
    sendJson(
      res,
      200,
      toTable(r.info, [obj], {
        now: Date.now(),
        include: table.include,
        resourceVersion: obj.metadata.resourceVersion,
      }),
    );
  }

  // ---- create ----

  private async create(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): Promise<void> {
    this.controls.check('create', r.key);
    const obj = await this.decodeObject(req, r.info);
    const { stored, warnings } = await this.createIn(r, obj, isDryRun(r.query), true);
    sendJson(res, 201, stored, warningHeaders(warnings));
  }

  /**
   * Creates an object in-process with the same naming, defaulting, validation and (unless
   * skipAdmission) admission as a POST. `resource` is a plural (`pods`) or a store key
   * (`apps/deployments`); the namespace comes from metadata.namespace.
   */
  async createObject(
    resource: string,
    obj: Record<string, unknown>,
    opts: { skipAdmission?: boolean } = {},
  ): Promise<KubeObject> {
    const info = this.o.resources.find((x) => resourceKey(x) === resource || x.resource === resource);
    if (!info) throw notFound('', 'resources', resource);
    const copy = structuredClone(obj);
    if (copy['metadata'] !== undefined && !isObj(copy['metadata']))
      throw badRequest('metadata must be an object');
    const md = (copy['metadata'] ??= {}) as O;
    const ns = typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : undefined;
    if (info.namespaced && !ns) throw badRequest(`${info.resource}: metadata.namespace is required`);
    const target: Target = { info, key: resourceKey(info), namespace: info.namespaced ? ns : undefined };
    return (await this.createIn(target, copy, false, !opts.skipAdmission)).stored;
  }

  private async createIn(
    r: Target,
    obj: O,
    dryRun: boolean,
    admit: boolean,
  ): Promise<{ stored: KubeObject; warnings?: string[] }> {
    const md = (obj['metadata'] ??= {}) as O;
    if (typeof md['name'] !== 'string' || md['name'] === '') {
      if (typeof md['generateName'] === 'string' && md['generateName'] !== '') {
        md['name'] = `${md['generateName']}${randomSuffix()}`;
      } else {
        throw statusFor(
          422,
          `${r.info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
    }
    this.checkNamespace(r, obj);
    this.requireNamespace(r.namespace);
    const name = String(md['name']);
    if (this.store.get(r.key, r.namespace, name)) throw alreadyExists(r.info.group, r.info.resource, name);
    const now = Date.now();
    initMetadata(r.info, obj, now);
    applyDefaults(r.info, obj);
    let stored = obj as KubeObject;
    let warnings: string[] | undefined;
    const admission = this.o.admission();
    if (admission && admit) {
      const out = await admission({
        info: r.info,
        operation: 'CREATE',
        namespace: r.namespace,
        name,
        object: stored,
        dryRun,
        store: this.store,
      });
      stored = out.object;
      warnings = out.warnings;
      // Mutations may not change identity.
      stored.metadata.name = name;
      if (r.info.namespaced) stored.metadata.namespace = r.namespace;
      applyDefaults(r.info, stored);
    }
    assertValid(r.info, stored);
    // Re-check after the (async) admission call.
    if (this.store.get(r.key, r.namespace, name)) throw alreadyExists(r.info.group, r.info.resource, name);
    if (!dryRun) {
      stored = this.store.put(r.key, stored);
      if (r.key === 'namespaces') this.ensureDefaultServiceAccount(name, now);
    }
    return { stored, warnings };
  }

  /** Stores a namespace as the server's own (initial namespaces), with its default service account. */
  seedNamespace(name: string, now: number): void {
    const info = findResource('', 'v1', 'namespaces')!;
    const obj: O = { metadata: { name } };
    initMetadata(info, obj, now);
    applyDefaults(info, obj);
    this.store.put('namespaces', obj as KubeObject);
    this.ensureDefaultServiceAccount(name, now);
  }

  private ensureDefaultServiceAccount(namespace: string, now: number): void {
    const info = findResource('', 'v1', 'serviceaccounts')!;
    if (this.store.get('serviceaccounts', namespace, 'default')) return;
    const sa: O = { metadata: { name: 'default', namespace } };
    initMetadata(info, sa, now);
    this.store.put('serviceaccounts', sa as KubeObject);
  }

  private checkNamespace(r: Target, obj: O): void {
    const md = obj['metadata'] as O;
    if (!r.info.namespaced) {
      delete md['namespace'];
      return;
    }
    const ns = md['namespace'];
    if (ns !== undefined && ns !== '' && ns !== r.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    md['namespace'] = r.namespace;
  }

  private requireNamespace(namespace: string | undefined): void {
    if (namespace !== undefined && !this.store.get('namespaces', undefined, namespace)) {
      throw notFound('', 'namespaces', namespace);
    }
  }

  /** A JSON (or kubectl's protobuf) object body whose kind and apiVersion, when set, match the route. */
  private async decodeObject(req: IncomingMessage, info: ResourceInfo): Promise<O> {
    const ct = String(req.headers['content-type'] ?? 'application/json')
      .split(';')[0]!
      .trim();
    let body: unknown;
    if (ct === PROTOBUF_CONTENT_TYPE) {
      // kubectl's typed create commands (namespace, configmap, secret, serviceaccount) send protobuf.
      body = decodeKubeProtobuf(await readRaw(req));
    } else if (ct !== 'application/json' && ct !== '') {
      throw unsupportedMediaType(
        `${ct} (the sandbox API server accepts JSON: use kubectl apply -f / create -f)`,
      );
    } else body = await readBody(req);
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    if (body['kind'] !== undefined && body['kind'] !== info.kind) {
      throw badRequest(
        `the API version in the data (${String(body['apiVersion'])}) / kind (${String(body['kind'])}) does not match the request (${apiVersionOf(info)}, ${info.kind})`,
      );
    }
    if (body['apiVersion'] !== undefined && body['apiVersion'] !== apiVersionOf(info)) {
      throw badRequest(
        `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${apiVersionOf(info)})`,
      );
    }
    if (body['metadata'] !== undefined && !isObj(body['metadata']))
      throw badRequest('metadata must be an object');
    return structuredClone(body);
  }

  // ---- update, patch, apply ----

  /** Shared tail of update and patch: server-owned fields, subresource rules, validation, no-op detection. */
  private write(res: ServerResponse, r: ResourceRoute, prev: KubeObject, next: O): void {
    const stored = this.commitWrite(r, prev, next);
    sendJson(res, 200, r.subresource === 'scale' ? toScale(stored) : stored);
  }

  /** Validates and stores `next` (the whole object) in place of `prev`; the object as stored. */
  private commitWrite(r: ResourceRoute, prev: KubeObject, next: O): KubeObject {
    const md = (next['metadata'] ??= {}) as O;
    if (!isObj(md)) throw badRequest('metadata must be an object');
    if (md['name'] !== undefined && md['name'] !== r.name) {
      throw badRequest(
        `the name of the object (${String(md['name'])}) does not match the name on the URL (${r.name})`,
      );
    }
    md['name'] = r.name;
    if (r.info.namespaced) {
      const ns = md['namespace'];
      if (ns !== undefined && ns !== '' && ns !== r.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
    }
    // A resourceVersion in the body (or set by a patch) is a precondition on it.
    const rv = md['resourceVersion'];
    if (rv !== undefined && rv !== '' && String(rv) !== prev.metadata.resourceVersion) {
      throw conflict(r.info.group, r.info.resource, r.name!);
    }
    let obj: O;
    if (r.subresource === 'status') {
      // Only status changes through the status subresource.
      obj = { ...structuredClone(prev), status: next['status'] };
    } else if (r.info.subresources.includes('status')) {
      // The main resource ignores status changes.
      obj = { ...next, status: structuredClone(prev['status']) };
      if (prev['status'] === undefined) delete obj['status'];
    } else obj = next;
    carryMetadata(r.info, obj, prev);
    if (r.info.kind === 'Namespace') applyDefaults(r.info, obj);
    if (r.info.kind === 'Secret') applyDefaults(r.info, obj);
    assertValid(r.info, obj);
    (obj['metadata'] as O)['resourceVersion'] = prev.metadata.resourceVersion;
    if (sameObject(obj, prev)) return prev;
    return isDryRun(r.query) ? (obj as KubeObject) : this.store.put(r.key, obj as KubeObject);
  }

  private async update(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): Promise<void> {
    this.controls.check('update', r.key);
    if (r.subresource === 'scale') {
      const scale = await readBody(req);
      const prev = this.mustGet(r);
      this.write(res, r, prev, withScale(prev, scale));
      return;
    }
    const next = await this.decodeObject(req, r.info);
    const prev = this.mustGet(r);
    this.write(res, r, prev, next);
  }

  private async patch(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): Promise<void> {
    this.controls.check('patch', r.key);
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.startsWith('application/apply-patch')) {
      await this.serverSideApply(req, res, r);
      return;
    }
    const body = await readBody(req);
    const prev = this.mustGet(r);
    if (r.subresource === 'scale') {
      this.write(res, r, prev, withScale(prev, applyPatch(ct, toScale(prev), body)));
      return;
    }
    const patched = applyPatch(ct, structuredClone(prev), body);
    if (!isObj(patched)) throw badRequest('the patched object is not a JSON object');
    const pmd = patched['metadata'];
    if (pmd !== undefined && !isObj(pmd)) throw badRequest('metadata must be an object');
    this.write(res, r, prev, patched);
  }

  /**
   * Server-side apply, simplified: the applied configuration (YAML or JSON) creates the object when
   * absent, else is strategic-merged onto it. There is no field ownership (no managedFields, no
   * conflicts between managers) and fields dropped from the applied configuration are not pruned.
   */
  private async serverSideApply(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): Promise<void> {
    if (!r.query.get('fieldManager')) {
      throw badRequest('PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
    }
    const body = await readBody(req, true);
    if (!isObj(body)) throw badRequest('the applied configuration must be an object');
    if (body['kind'] !== r.info.kind || body['apiVersion'] !== apiVersionOf(r.info)) {
      throw badRequest(
        `the applied configuration must have apiVersion ${apiVersionOf(r.info)} and kind ${r.info.kind}; got ${String(body['apiVersion'])} ${String(body['kind'])}`,
      );
    }
    const md = isObj(body['metadata']) ? body['metadata'] : {};
    if (md['name'] !== undefined && md['name'] !== r.name) {
      throw badRequest(
        `the name of the object (${String(md['name'])}) does not match the name on the URL (${r.name})`,
      );
    }
    const prev = this.store.get(r.key, r.namespace, r.name!);
    if (!prev) {
      const obj = structuredClone(body);
      obj['metadata'] = { ...md, name: r.name };
      const { stored, warnings } = await this.createIn(r, obj, isDryRun(r.query), true);
      sendJson(res, 201, stored, warningHeaders(warnings));
      return;
    }
    const patched = strategicMergePatch(structuredClone(prev), body);
    if (!isObj(patched)) throw badRequest('the patched object is not a JSON object');
    this.write(res, r, prev, patched);
  }

  // ---- delete ----

  private async delete(req: IncomingMessage, res: ServerResponse, r: ResourceRoute): Promise<void> {
    this.controls.check('delete', r.key);
    const body = await readBody(req);
    const prev = this.mustGet(r);
    if (isObj(body) && isObj(body['preconditions'])) {
      const pre = body['preconditions'];
      if (pre['uid'] !== undefined && pre['uid'] !== prev.metadata['uid']) {
        throw statusFor(
          409,
          `Precondition failed: UID in precondition: ${String(pre['uid'])}, UID in object meta: ${String(prev.metadata['uid'])}`,
        );
      }
      if (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== prev.metadata.resourceVersion) {
        throw conflict(r.info.group, r.info.resource, r.name!);
      }
    }
    if (isDryRun(r.query)) {
      sendJson(res, 200, prev);
      return;
    }
    if (propagationPolicy(r.query, body) === 'Orphan') this.orphanDependents(prev);
    const deleted = this.deleteObject(r.info, r.namespace, r.name!);
    sendJson(res, 200, deleted ?? prev);
  }

  /**
   * propagationPolicy=Orphan (`kubectl delete --cascade=orphan`): the dependents lose their
   * ownerReference to the object and so outlive it (the garbage collector deletes the dependents of
   * the other policies; Foreground is served as Background).
   */
  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata['uid'];
    for (const info of this.o.resources) {
      if (!info.namespaced) continue;
      const key = resourceKey(info);
      for (const o of this.store.list(key, owner.metadata.namespace)) {
        const refs = o.metadata['ownerReferences'];
        if (!Array.isArray(refs) || !refs.some((ref: O) => ref['uid'] === uid)) continue;
        const rest = (refs as O[]).filter((ref) => ref['uid'] !== uid);
        const md: O = { ...o.metadata };
        if (rest.length) md['ownerReferences'] = rest;
        else delete md['ownerReferences'];
        this.store.put(key, { ...o, metadata: md } as KubeObject);
      }
    }
  }

  /** Deletes one object; a namespace takes its contents with it. */
  deleteObject(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = resourceKey(info);
    if (key === 'namespaces') {
      for (const other of this.o.resources) {
        if (!other.namespaced) continue;
        for (const o of this.store.list(resourceKey(other), name)) {
          this.store.delete(resourceKey(other), name, o.metadata.name);
        }
      }
    }
    // A deleted pod's last state carries its deletion timestamp (kubectl shows it as Terminating).
    const finalize =
      info.kind === 'Pod'
        ? (o: KubeObject): KubeObject =>
            ({
              ...o,
              metadata: {
                ...o.metadata,
                deletionTimestamp: kubeTime(Date.now()),
                deletionGracePeriodSeconds: 0,
              },
            }) as KubeObject
        : undefined;
    return this.store.delete(key, namespace, name, finalize);
  }

  private deleteCollection(res: ServerResponse, r: ResourceRoute): void {
    this.controls.check('delete', r.key);
    const filter = selectorFilter(r.query);
    const victims = this.store.list(r.key, r.namespace).filter(filter);
    const items = victims.map((o) => this.deleteObject(r.info, o.metadata.namespace, o.metadata.name) ?? o);
    sendJson(res, 200, {
      kind: `${r.info.kind}List`,
      apiVersion: apiVersionOf(r.info),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    });
  }

  private mustGet(r: Target): KubeObject {
    const o = this.store.get(r.key, r.namespace, r.name!);
    if (!o) throw notFound(r.info.group, r.info.resource, r.name!);
    return o;
  }
}
