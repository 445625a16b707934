/**
 * The layering of docs/architecture.md, checked against the code: every
 * relative import in src/ (type-only ones included) must be one its folder's
 * row in the "Folders" table allows, and no file may reach itself through
 * imports. The table is the rule, so the page cannot drift from the code.
 *
 * A row's "imports" column is read as: each `name` is allowed (a folder such
 * as `smtp`, a root module such as `errors`, or one file such as
 * `net/idn`); `name` (types) allows type-only imports of it;
 * "everything below" allows every row further down the table; other words
 * (node built-ins, prose) are not checked. Imports inside a folder are free.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

interface Import {
  /** Source-relative, without `.ts`: `smtp/reply`, `errors`. */
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

interface Row {
  /** `cli` for `src/cli/`, `errors` for `src/errors.ts`. */
  readonly unit: string;
  readonly allowed: ReadonlyMap<string, 'all' | 'types'>;
}

/** `smtp/reply` → `smtp`; `errors` (a root module) → `errors`. */
function unitOf(module: string): string {
  return module.split('/')[0]!;
}

function sourceModules(): string[] {
  return (readdirSync(src, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.replaceAll('\\', '/').replace(/\.ts$/, ''))
    .sort();
}

/** Every relative import of a module: static, `export … from`, `import()` and `import('…').T` types. */
function importsOf(module: string, text = readFileSync(join(src, `${module}.ts`), 'utf8')): Import[] {
  const file = join(src, `${module}.ts`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (specifier: ts.Node | undefined, typeOnly: boolean): void => {
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    const to = relative(src, resolve(dirname(file), specifier.text)).replaceAll('\\', '/').replace(/\.js$/, '');
    found.push({ from: module, to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyImport(node));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `import type { A }`, or `import { type A, type B }` with nothing else: erased from the output. */
function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings)
    && bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

/** The "Folders" table of docs/architecture.md, top to bottom. */
function layerTable(): Row[] {
  const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const lines = page.split('\n').filter((line) => /^\| `src\//.test(line));
  const units = lines.map((line) => /^\| `src\/([^/`]+?)(?:\.ts|\/)`/.exec(line)![1]!);
  return lines.map((line, i) => {
    const imports = line.split('|').at(-2)!;
    const allowed = new Map<string, 'all' | 'types'>();
    if (/everything below/.test(imports)) for (const unit of units.slice(i + 1)) allowed.set(unit, 'all');
    for (const [, name, types] of imports.matchAll(/`([^`]+)`( \(types\))?/g)) allowed.set(name!, types ? 'types' : 'all');
    return { unit: units[i]!, allowed };
  });
}

/** The imports the table does not allow, as `from → to` lines. */
function forbiddenImports(edges: readonly Import[], table: readonly Row[]): string[] {
  const rows = new Map(table.map((row) => [row.unit, row]));
  return edges.flatMap((edge) => {
    const unit = unitOf(edge.from);
    if (unitOf(edge.to) === unit) return [];
    const row = rows.get(unit);
    const rule = row?.allowed.get(edge.to) ?? row?.allowed.get(unitOf(edge.to));
    if (rule === 'all' || (rule === 'types' && edge.typeOnly)) return [];
    return [`${edge.from} → ${edge.to}${edge.typeOnly ? ' (type only)' : ''}${rule === 'types' ? ': only types are allowed' : ''}`];
  });
}

/** Each circle of imports once, as `a → b → a` (Tarjan's strongly connected components, then one path around each). */
function importCircles(edges: readonly Import[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...new Set([...(next.get(from) ?? []), to])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[] = [];
  const connect = (module: string): void => {
    index.set(module, index.size);
    low.set(module, index.get(module)!);
    stack.push(module);
    for (const to of next.get(module) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(module, Math.min(low.get(module)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(module, Math.min(low.get(module)!, index.get(to)!));
      }
    }
    if (low.get(module) !== index.get(module)) return;
    const component = stack.splice(stack.indexOf(module));
    if (component.length > 1 || next.get(module)?.includes(module)) circles.push(pathAround(module, new Set(component), next));
  };
  for (const module of next.keys()) if (!index.has(module)) connect(module);
  return circles;
}

/** A shortest way from `start` back to itself inside its component. */
function pathAround(start: string, component: ReadonlySet<string>, next: ReadonlyMap<string, readonly string[]>): string {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const to of next.get(at) ?? []) {
      if (!component.has(to) || cameFrom.has(to)) continue;
      cameFrom.set(to, at);
      if (to === start) queue.length = 0;
      else queue.push(to);
    }
  }
  const between: string[] = [];
  for (let at = cameFrom.get(start)!; at !== start; at = cameFrom.get(at)!) between.unshift(at);
  return [start, ...between, start].join(' → ');
}

describe('the layers of docs/architecture.md', () => {
  const modules = sourceModules();
  const edges = modules.flatMap((module) => importsOf(module));
  const table = layerTable();

  it('has a row for every folder and root module of src/', () => {
    const units = new Set(table.map((row) => row.unit));
    expect(modules.filter((module) => !units.has(unitOf(module)))).toEqual([]);
  });

  it('no module imports what its row does not allow, type-only imports included', () => {
    expect(forbiddenImports(edges, table)).toEqual([]);
  });

  it('has no circle of imports, type-only ones included', () => {
    expect(importCircles(edges)).toEqual([]);
  });
});

describe('the layer checks themselves', () => {
  const text = [
    "import type { A } from '../log/syslog.js';",
    "import { type B } from './b.js';",
    "import { c, type C } from '../smtp/c.js';",
    "export * from '../errors.js';",
    "export type { D } from '../net/d.js';",
    "let e: import('../delivery/e.js').E;",
    "const f = await import('../cli/f.js');",
    "import 'node:fs';",
  ].join('\n');

  it('read every kind of relative import, and which are types only', () => {
    expect(importsOf('config/a', text)).toEqual([
      { from: 'config/a', to: 'log/syslog', typeOnly: true },
      { from: 'config/a', to: 'config/b', typeOnly: true },
      { from: 'config/a', to: 'smtp/c', typeOnly: false },
      { from: 'config/a', to: 'errors', typeOnly: false },
      { from: 'config/a', to: 'net/d', typeOnly: true },
      { from: 'config/a', to: 'delivery/e', typeOnly: true },
      { from: 'config/a', to: 'cli/f', typeOnly: false },
    ]);
  });

  it('find a forbidden import, a value import where only types are allowed, and a circle', () => {
    const table: Row[] = [
      { unit: 'log', allowed: new Map([['smtp', 'types']]) },
      { unit: 'config', allowed: new Map([['errors', 'all']]) },
    ];
    const edge = (from: string, to: string, typeOnly = false): Import => ({ from, to, typeOnly });
    expect(forbiddenImports([edge('config/a', 'log/b', true), edge('config/a', 'errors'), edge('log/b', 'smtp/c', true), edge('log/b', 'smtp/d')], table))
      .toEqual(['config/a → log/b (type only)', 'log/b → smtp/d: only types are allowed']);
    expect(importCircles([edge('a/x', 'a/y', true), edge('a/y', 'b/z'), edge('b/z', 'a/x'), edge('b/z', 'c/w')])).toEqual(['a/x → a/y → b/z → a/x']);
  });
});
