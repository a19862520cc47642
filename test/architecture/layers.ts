import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layers of lib/, bottom first: a file may import its own folder and the folders of lower
 * layers, never a higher one nor another folder of its own layer. ARCHITECTURE.md says why.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['errors'],
  ['stores'],
  ['failure'],
  ['engine'],
  ['metrics', 'transports'],
  ['limits'],
  ['enforcement'],
  ['module'],
  ['bullmq', 'testing'],
  ['index.ts'],
];

/** One import of a lib file: from and to, as paths relative to lib/. */
export interface Import {
  readonly from: string;
  readonly to: string;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Every relative import between files of `root` (lib/), resolved to files. */
export function importsOf(root: string): Import[] {
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  return files.flatMap((file) => {
    const text = readFileSync(join(root, file), 'utf8');
    return [...text.matchAll(IMPORT)].map((m) => {
      const target = relative(root, resolve(dirname(join(root, file)), m[1]));
      const to = files.includes(`${target}.ts`) ? `${target}.ts` : files.includes(join(target, 'index.ts')) ? join(target, 'index.ts') : target;
      return { from: file, to };
    });
  });
}

/** The folder (or root file) a lib path belongs to: its first segment. */
export function folderOf(path: string): string {
  return path.split(/[\\/]/)[0];
}

function layerOf(folder: string): number {
  const layer = LAYERS.findIndex((names) => names.includes(folder));
  if (layer < 0) throw new Error(`lib/${folder} is in no layer: add it to LAYERS and to ARCHITECTURE.md`);
  return layer;
}

/** The imports that break the layering: upward, or sideways between two folders of one layer. */
export function layerViolations(imports: readonly Import[]): string[] {
  return imports.flatMap(({ from, to }) => {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === b || layerOf(b) < layerOf(a)) return [];
    return [`lib/${from} imports lib/${to}: ${b} is ${layerOf(b) === layerOf(a) ? 'beside' : 'above'} ${a}`];
  });
}

/** Every import cycle between files, each as the files around it. */
export function cycles(imports: readonly Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') found.push([...path.slice(path.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of next.keys()) if (!state.has(file)) visit(file);
  return found;
}
