#!/usr/bin/env node
/**
 * No import cycles in lib/, server/ and app/ (issue 13; part of `npm run lint`). Follows static
 * imports, re-exports and dynamic import() of relative and '@/' paths; type-only imports are
 * erased at run time and do not count. Prints every cycle (strongly connected component) found.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXTS = ['.ts', '.tsx', '.mts', '.mjs', '.js'];

function files(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (EXTS.includes(path.extname(e.name)) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolve(from, spec) {
  let base;
  if (spec.startsWith('@/')) base = path.join(ROOT, spec.slice(2));
  else if (spec.startsWith('.')) base = path.resolve(path.dirname(from), spec);
  else return null;
  const candidates = [base, ...EXTS.map((e) => base + e), ...EXTS.map((e) => path.join(base, 'index' + e))];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importGraph(roots = ['lib', 'server', 'app']) {
  const graph = new Map();
  for (const r of roots) {
    for (const f of files(path.join(ROOT, r))) {
      const src = readFileSync(f, 'utf8');
      const deps = new Set();
      for (const m of src.matchAll(IMPORT)) {
        if (m[2]) continue; // import type / export type
        const spec = m[3] ?? m[4];
        const to = resolve(f, spec);
        if (to) deps.add(to);
      }
      graph.set(f, deps);
    }
  }
  return graph;
}

/** Tarjan's strongly connected components; those with more than one file (or a self-import) are cycles. */
export function cycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.map((f) => path.relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const found = cycles(importGraph());
  for (const c of found) console.error(`check-cycles: import cycle: ${c.join(' -> ')}`);
  if (!found.length) console.log('check-cycles: no import cycles in lib/, server/, app/');
  process.exitCode = found.length ? 1 : 0;
}
