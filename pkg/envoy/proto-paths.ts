/**
 * The one place where fsm says where .proto files come from.
 *
 * fsm keeps no copies of upstream Envoy protos: they are read from the npm package
 * @grpc/grpc-js-xds, which ships envoy-api, xds (udpa), googleapis and protoc-gen-validate under
 * its deps/ folder. The project's own .proto files (if any) live in the repository's proto/ folder.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Upstream include folders inside @grpc/grpc-js-xds, in lookup order. */
export const UPSTREAM_PROTO_DEPS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'] as const;

/** Absolute folder of the installed @grpc/grpc-js-xds package (resolved, never hard-coded). */
export function grpcJsXdsPackageDir(): string {
  return path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
}

/**
 * The repository's proto/ folder. Walks up from this module (pkg/envoy in sources,
 * dist/pkg/envoy once built) until a folder holding both package.json and proto/ is found.
 */
export function projectProtoDir(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'proto'))) {
      return path.join(dir, 'proto');
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Include directories for every proto load of fsm: the project's proto/ first, then upstream. */
export function protoIncludeDirs(): string[] {
  const deps = path.join(grpcJsXdsPackageDir(), 'deps');
  const dirs = UPSTREAM_PROTO_DEPS.map((d) => path.join(deps, d) + path.sep);
  const own = projectProtoDir();
  return own ? [own + path.sep, ...dirs] : dirs;
}
