/**
 * A tiny e2e test harness over playwright-core (no @playwright/test): tests are named async
 * functions run in order against one browser; each gets a fresh page. Assertions use
 * node:assert. Every test saves a screenshot of where it ended to tests/e2e/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const registry = [];

/** Register a test. `fn({ page, baseUrl, shared })` */
export function test(name, fn, { timeoutMs = 90_000 } = {}) {
  registry.push({ name, fn, timeoutMs });
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name.replace(/[^a-z0-9-]+/gi, '-').toLowerCase()}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Statistics of a canvas's pixels (grey = mean of RGB): distinct grey levels and standard
 * deviation, to tell a real image from a blank or uniform panel; plus a hash to compare frames.
 * `region` (fractions of the canvas) defaults to a band left of centre: inside the fitted image,
 * clear of the initial crosshair (centre) and the scale bar (bottom right).
 */
export async function canvasStats(page, selector, region = { x0: 0.15, x1: 0.45, y0: 0.4, y1: 0.48 }) {
  return page.$eval(selector, (c, r) => {
    const ctx = c.getContext('2d');
    const x = Math.floor(c.width * r.x0), y = Math.floor(c.height * r.y0);
    const w = Math.max(1, Math.floor(c.width * (r.x1 - r.x0))), h = Math.max(1, Math.floor(c.height * (r.y1 - r.y0)));
    const { data } = ctx.getImageData(x, y, w, h);
    const seen = new Set();
    let sum = 0, sum2 = 0, n = 0, hash = 0;
    for (let i = 0; i < data.length; i += 4) {
      const g = (data[i] + data[i + 1] + data[i + 2]) / 3;
      seen.add(g | 0);
      sum += g; sum2 += g * g; n++;
      hash = (hash * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) >>> 0;
    }
    const mean = sum / n;
    return { distinct: seen.size, std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), mean, hash, width: w, height: h };
  }, region);
}

/** Poll `fn` until it returns a truthy value; throw with `what` after `timeoutMs`. */
export async function waitFor(fn, what, timeoutMs = 20_000, everyMs = 200) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
}

/** Run every registered test; returns { passed, failed }. */
export async function runAll({ browser, baseUrl, log = console.log }) {
  let passed = 0, failed = 0;
  const shared = {};
  for (const t of registry) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const t0 = Date.now();
    try {
      await Promise.race([
        t.fn({ page, baseUrl, shared }),
        new Promise((_, rej) => setTimeout(() => rej(new Error(`test timed out after ${t.timeoutMs} ms`)), t.timeoutMs)),
      ]);
      passed++;
      log(`  ✓ ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      log(`  ✗ ${t.name} (${Date.now() - t0} ms)\n      ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n      ')}`);
      if (consoleErrors.length) log(`      page errors: ${consoleErrors.slice(0, 3).join(' | ')}`);
      await screenshot(page, `FAILED-${t.name}`).catch(() => {});
    } finally {
      await context.close();
    }
  }
  return { passed, failed };
}

/** A tRPC query (or mutation) against the running app, its data or an Error with the server's message. */
export async function trpc(baseUrl, proc, input, mutation = false) {
  const res = mutation
    ? await fetch(`${baseUrl}/api/trpc/${proc}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ json: input }) })
    : await fetch(`${baseUrl}/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const body = await res.json();
  if (!res.ok) throw new Error(`${proc}: HTTP ${res.status}: ${body?.error?.json?.message ?? JSON.stringify(body).slice(0, 300)}`);
  return body.result.data.json;
}
