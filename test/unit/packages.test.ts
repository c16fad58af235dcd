/**
 * The house's package rules, checked on the sources: every package index (pkg/**\/index.ts) exports
 * by name, and no two packages export different things under one name (a reader who sees
 * `CheckResult` knows which package it is). Deep imports are refused by eslint's
 * fsm/package-boundaries rule (eslint.config.js).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..', '..');

function indexFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...indexFiles(path));
    else if (entry.name === 'index.ts') out.push(path);
  }
  return out;
}

const indexes = indexFiles(join(root, 'pkg'));

test('there are package indexes to check', () => {
  expect(indexes.length).toBeGreaterThan(10);
});

test.each(indexes.map((f) => [relative(root, f)]))('%s exports by name (no export *)', (file) => {
  expect(readFileSync(join(root, file), 'utf8')).not.toMatch(/^export \*/m);
});

test('no two packages export different declarations under one name', () => {
  const program = ts.createProgram(indexes, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const owners = new Map<string, Map<string, string>>(); // name → declaration → package
  for (const file of indexes) {
    const sf = program.getSourceFile(file);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    expect(moduleSymbol).toBeDefined();
    for (const exported of checker.getExportsOfModule(moduleSymbol!)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decl = target.declarations?.[0];
      const where = decl ? `${relative(root, decl.getSourceFile().fileName)}:${decl.pos}` : exported.name;
      const byDecl = owners.get(exported.name) ?? new Map<string, string>();
      byDecl.set(where, relative(root, file));
      owners.set(exported.name, byDecl);
    }
  }
  const clashes = [...owners]
    .filter(([, byDecl]) => byDecl.size > 1)
    .map(([name, byDecl]) => `${name}: ${[...byDecl.values()].join(', ')}`);
  expect(clashes).toEqual([]);
});
