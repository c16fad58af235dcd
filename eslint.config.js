import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { existsSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * House rule: a package (a folder under pkg/ with an index.ts) is used through its index. Files inside
 * the package's folder (its subpackages included) may import its files; the unit tests of a top-level
 * package (test/unit/<name>/) may reach pkg/<name>/ files; everything else imports pkg/<p>/index.js.
 */
const root = dirname(new URL(import.meta.url).pathname);
function packageOf(relFile) {
  for (let dir = dirname(relFile); dir.startsWith('pkg'); dir = dirname(dir)) {
    if (existsSync(resolve(root, dir, 'index.ts'))) return dir;
  }
  return undefined;
}
const packageBoundaries = {
  meta: {
    type: 'problem',
    messages: {
      internal:
        "'{{spec}}' is internal to {{pkg}}: import it from {{pkg}}/index.js (export it there if other packages need it)",
    },
  },
  create(context) {
    const from = relative(root, context.filename).split(sep).join('/');
    const unitOf = /^test\/unit\/([^/]+)\//.exec(from)?.[1];
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), spec))
        .split(sep)
        .join('/');
      const pkg = packageOf(target);
      if (!pkg || target === `${pkg}/index.js` || from.startsWith(`${pkg}/`)) return;
      if (unitOf && (pkg === `pkg/${unitOf}` || pkg.startsWith(`pkg/${unitOf}/`))) return;
      context.report({ node: node.source, messageId: 'internal', data: { spec, pkg } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { fsm: { rules: { 'package-boundaries': packageBoundaries } } },
    rules: {
      'fsm/package-boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The `any` rule is strict in pkg/: any use needs an eslint-disable comment saying why.
    files: ['pkg/**/*.ts', 'cmd/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // A package says what it offers: named exports only, never `export *`.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'export what other packages use by name, not with export *',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
