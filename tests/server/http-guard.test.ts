/**
 * The Host/Origin guard of proxy.ts (server/http-guard.ts): DNS-rebinding host names and
 * cross-site mutations are refused; the app's own pages, the e2e harness (http://127.0.0.1:PORT,
 * Node fetch with JSON) and configured reverse-proxy names get through.
 */
import { describe, expect, it } from 'vitest';
import { checkRequest, guardConfigFromEnv, hostName } from '@/server/http-guard';
import { guardResponse } from '@/server/http';

const cfg = guardConfigFromEnv({});
const req = (method: string, headers: Record<string, string>) => ({
  method,
  header: (n: string) => headers[n.toLowerCase()] ?? null,
});
const ok = (method: string, headers: Record<string, string>, c = cfg) => checkRequest(req(method, headers), c).ok;

describe('host names', () => {
  it('serves the loopback names with any port', () => {
    for (const host of ['localhost', 'localhost:3000', '127.0.0.1:43123', '[::1]:3000', 'LOCALHOST:3000', 'localhost.:3000']) {
      expect(ok('GET', { host }), host).toBe(true);
    }
  });

  it('refuses other names (DNS rebinding) and malformed or missing Host headers', () => {
    for (const host of ['evil.example:3000', 'attacker.localhost.evil.example', '192.168.1.20:3000', '0.0.0.0:3000', 'localhost@evil.example', 'local host', '']) {
      const d = checkRequest(req('GET', host ? { host } : {}), cfg);
      expect(d.ok, host).toBe(false);
      if (!d.ok) {
        expect(d.status).toBe(421);
        expect(d.reason).toMatch(/PETROMAP_ALLOWED_HOSTS/);
      }
    }
  });

  it('adds the listening host and PETROMAP_ALLOWED_HOSTS, never a wildcard address', () => {
    const c = guardConfigFromEnv({ HOST: 'petro-lab.local', PETROMAP_ALLOWED_HOSTS: ' maps.lab.example.org , 10.0.0.5:8443,', __NEXT_PRIVATE_ORIGIN: 'http://10.1.2.3:3000' });
    expect([...c.allowedHosts].sort()).toEqual(['10.0.0.5', '10.1.2.3', '127.0.0.1', '[::1]', 'localhost', 'maps.lab.example.org', 'petro-lab.local']);
    expect(ok('GET', { host: 'maps.lab.example.org' }, c)).toBe(true);
    expect(ok('GET', { host: 'petro-lab.local:3000' }, c)).toBe(true);
    const wild = guardConfigFromEnv({ HOST: '0.0.0.0', __NEXT_PRIVATE_ORIGIN: 'http://[::]:3000', PETROMAP_ALLOWED_HOSTS: '::' });
    expect([...wild.allowedHosts].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(hostName('::1')).toBe('[::1]');
  });
});

describe('mutations', () => {
  const host = '127.0.0.1:3000';

  it('accepts same-origin requests of the app (Origin and Sec-Fetch-Site of a browser)', () => {
    expect(ok('POST', { host, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' })).toBe(true);
    expect(ok('PUT', { host, origin: 'http://127.0.0.1:3000', 'content-type': 'application/octet-stream' })).toBe(true);
    // an upload of a .txt file is text/plain: fine with the page's Origin
    expect(ok('POST', { host, origin: 'http://127.0.0.1:3000', 'content-type': 'text/plain' })).toBe(true);
  });

  it('refuses a cross-site form POST, with or without Origin', () => {
    const form = { host, 'content-type': 'application/x-www-form-urlencoded' };
    const d = checkRequest(req('POST', { ...form, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), cfg);
    expect(d).toMatchObject({ ok: false, status: 403 });
    expect(ok('POST', { ...form, origin: 'https://evil.example' })).toBe(false);
    expect(ok('POST', { ...form, origin: 'null' })).toBe(false);
    // an old browser or a stripped Origin: a form content type without Origin is refused
    expect(ok('POST', form)).toBe(false);
    expect(ok('POST', { host, 'content-type': 'multipart/form-data; boundary=x' })).toBe(false);
    expect(ok('POST', { host, 'content-type': 'text/plain;charset=UTF-8' })).toBe(false);
    // unless the browser says it is same-origin
    expect(ok('POST', { ...form, 'sec-fetch-site': 'same-origin' })).toBe(true);
  });

  it('refuses same-site pages on other ports and Sec-Fetch-Site other than same-origin', () => {
    expect(ok('POST', { host, origin: 'http://127.0.0.1:8080', 'content-type': 'application/json' })).toBe(false);
    expect(ok('POST', { host, origin: 'http://localhost:3000', 'content-type': 'application/json' })).toBe(false);
    expect(ok('POST', { host, 'sec-fetch-site': 'same-site', 'content-type': 'application/json' })).toBe(false);
    expect(ok('POST', { host, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })).toBe(false);
  });

  it('accepts local tools without Origin when the body is not a form (the e2e harness posts JSON with Node fetch)', () => {
    expect(ok('POST', { host, 'content-type': 'application/json' })).toBe(true);
    expect(ok('PUT', { host, 'content-type': 'application/octet-stream' })).toBe(true);
  });

  it('behind a reverse proxy: the public name from PETROMAP_ALLOWED_HOSTS, or X-Forwarded-Host', () => {
    const c = guardConfigFromEnv({ PETROMAP_ALLOWED_HOSTS: 'maps.lab.example.org' });
    // the proxy rewrites Host to the loopback address; the browser's Origin is the public name
    expect(ok('POST', { host, origin: 'https://maps.lab.example.org', 'content-type': 'application/json' }, c)).toBe(true);
    expect(ok('POST', { host, origin: 'https://other.lab.example.org', 'content-type': 'application/json' }, c)).toBe(false);
    // a local proxy on port 443 that forwards the Host it received
    expect(ok('POST', { host, origin: 'https://localhost', 'x-forwarded-host': 'localhost', 'content-type': 'application/json' })).toBe(true);
  });

  it('lets safe methods through whatever their Origin (responses are not readable cross-site)', () => {
    expect(ok('GET', { host, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(ok('HEAD', { host })).toBe(true);
  });
});

describe('guardResponse (routes outside proxy.ts)', () => {
  const url = 'http://127.0.0.1:3000/api/projects/p1/upload';
  it('answers a refusal as JSON, or null', async () => {
    const rebound = guardResponse(new Request(url, { method: 'POST', headers: { host: 'evil.example:3000', 'content-type': 'application/octet-stream' }, body: 'x' }));
    expect(rebound?.status).toBe(421);
    const form = guardResponse(
      new Request(url, { method: 'POST', headers: { host: '127.0.0.1:3000', origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=x' }, body: 'x' }),
    );
    expect(form?.status).toBe(403);
    expect(((await form!.json()) as { error: string }).error).toMatch(/evil\.example/);
    const own = guardResponse(new Request(url, { method: 'POST', headers: { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'content-type': 'application/octet-stream' }, body: 'x' }));
    expect(own).toBeNull();
  });
});

describe('proxy.ts', () => {
  it('applies the guard and leaves the body-streaming routes and static files to themselves', async () => {
    const { proxy, config } = await import('@/proxy');
    const refused = proxy(new Request('http://127.0.0.1:3000/api/trpc/projects.list', { headers: { host: 'evil.example:3000' } }));
    expect(refused?.status).toBe(421);
    expect(proxy(new Request('http://127.0.0.1:3000/', { headers: { host: '127.0.0.1:3000' } }))).toBeUndefined();
    // the matcher as Next compiles it (next/dist/build/analysis/get-page-static-info)
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const { getMiddlewareMatchers } = require('next/dist/build/analysis/get-page-static-info.js') as {
      getMiddlewareMatchers: (m: string[], c: object) => { regexp: string }[];
    };
    const re = getMiddlewareMatchers(config.matcher, {}).map((m) => new RegExp(m.regexp));
    const matched = (p: string) => re.some((r) => r.test(p));
    for (const p of ['/', '/projects/p1', '/api/trpc/projects.list', '/api/projects/p1/annotations/prediction', '/api/projects/p1/export', '/api/projects/p1/uploads', '/api/projects/p1/multiscale/slice']) expect(matched(p), p).toBe(true);
    for (const p of ['/api/projects/p1/upload', '/api/projects/p1/annotations/slice', '/api/projects/p1/multiscale/pores', '/_next/static/chunks/a.js', '/favicon.ico']) expect(matched(p), p).toBe(false);
  });
});
