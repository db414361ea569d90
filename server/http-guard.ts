/**
 * Host and Origin checks of every request (issue 12, item 7), as a pure function so that it can be
 * tested without a server; proxy.ts applies it to each request.
 *
 * - DNS rebinding: a web page on evil.example whose name later resolves to 127.0.0.1 can send
 *   requests to the loopback server, but its Host header still says evil.example. Only the host
 *   names of `allowedHosts` are served: localhost, 127.0.0.1, [::1], the host the server listens
 *   on, and the names in PETROMAP_ALLOWED_HOSTS (comma-separated, for a lab behind a reverse proxy).
 * - Cross-site requests: a page on another site can POST a plain HTML form (no CORS preflight) to
 *   the server. Requests other than GET/HEAD/OPTIONS need an Origin of an allowed host (the same
 *   host and port as the request, or a name from PETROMAP_ALLOWED_HOSTS), and Sec-Fetch-Site, when
 *   the browser sends it, must say same-origin. Without an Origin, a form content type (what a
 *   cross-site form can send) is refused; other bodies (JSON, octet-stream) need a CORS preflight
 *   in a browser, which this server never grants, so they come from local tools (curl, scripts).
 *
 * No next/ or server/ imports: proxy.ts bundles this on its own.
 */

export interface GuardConfig {
  /** lower-case host names (no port); IPv6 in brackets, as URL.hostname writes them */
  allowedHosts: ReadonlySet<string>;
  /** the names that came from PETROMAP_ALLOWED_HOSTS: an Origin with such a name may differ from Host (reverse proxy) */
  extraHosts: ReadonlySet<string>;
}

export interface GuardRequest {
  method: string;
  /** header lookup, case-insensitive (Headers.get) */
  header: (name: string) => string | null;
}

export type GuardDecision = { ok: true } | { ok: false; status: 403 | 421; reason: string };

export const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

/** wildcard listen addresses are not names a browser should use */
const WILDCARD = new Set(['0.0.0.0', '[::]', '::']);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** content types a cross-site HTML form (or a "simple" fetch) can send without a preflight */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** "Host:port" (or a bare name, or an IPv6 address) → normalised host name, or null if malformed. */
export function hostName(value: string | null | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  const h = splitHost(v);
  return h ? h.name : null;
}

function splitHost(v: string): { name: string; port: string } | null {
  // a bare IPv6 address (as in HOST=::1) gets its brackets
  const s = !v.startsWith('[') && (v.match(/:/g)?.length ?? 0) > 1 ? `[${v}]` : v;
  if (/[/?#@\\\s]/.test(s)) return null;
  try {
    const u = new URL(`http://${s}`);
    if (!u.hostname) return null;
    return { name: u.hostname.toLowerCase().replace(/\.$/, ''), port: u.port };
  } catch {
    return null;
  }
}

/** "host:port" of an Origin header value, or null ("null", other schemes, malformed). */
function originHost(origin: string): { name: string; hostPort: string } | null {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    const name = u.hostname.toLowerCase().replace(/\.$/, '');
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return { name, hostPort: `${name}:${port}` };
  } catch {
    return null;
  }
}

/** Host header value → "name:port" with the default port of the scheme filled in. */
function hostPort(value: string | null, https: boolean): string | null {
  if (!value) return null;
  const h = splitHost(value.trim());
  return h ? `${h.name}:${h.port || (https ? '443' : '80')}` : null;
}

/**
 * The guard's settings from the environment: the default names, the host the server listens on
 * (HOST, or the origin `next start --hostname` records in __NEXT_PRIVATE_ORIGIN) and the
 * comma-separated PETROMAP_ALLOWED_HOSTS (names or name:port; the port is ignored).
 */
export function guardConfigFromEnv(env: Record<string, string | undefined>): GuardConfig {
  const allowed = new Set<string>(DEFAULT_HOSTS);
  const extra = new Set<string>();
  const listen: (string | null)[] = [hostName(env.HOST)];
  if (env.__NEXT_PRIVATE_ORIGIN) {
    try {
      listen.push(hostName(new URL(env.__NEXT_PRIVATE_ORIGIN).host));
    } catch {
      /* not a URL: ignore */
    }
  }
  for (const h of listen) if (h && !WILDCARD.has(h)) allowed.add(h);
  for (const part of (env.PETROMAP_ALLOWED_HOSTS ?? '').split(',')) {
    const h = hostName(part);
    if (h && !WILDCARD.has(h)) (allowed.add(h), extra.add(h));
  }
  return { allowedHosts: allowed, extraHosts: extra };
}

const refuse = (status: 403 | 421, reason: string): GuardDecision => ({ ok: false, status, reason });

/** Decide whether petromap serves this request. */
export function checkRequest(req: GuardRequest, cfg: GuardConfig): GuardDecision {
  const hostHeader = req.header('host');
  const host = hostName(hostHeader);
  if (!host || !cfg.allowedHosts.has(host)) {
    return refuse(
      421,
      `petromap does not answer to the host name "${hostHeader ?? ''}". Open it as http://localhost or http://127.0.0.1; ` +
        'behind a reverse proxy, add the name to PETROMAP_ALLOWED_HOSTS (comma-separated) and restart the server.',
    );
  }
  if (SAFE_METHODS.has(req.method.toUpperCase())) return { ok: true };

  const site = req.header('sec-fetch-site')?.trim().toLowerCase();
  if (site && site !== 'same-origin' && site !== 'none') {
    return refuse(403, `Refused a ${req.method} request sent from another web site (Sec-Fetch-Site: ${site}): changes can only be made from petromap's own pages.`);
  }
  const origin = req.header('origin')?.trim();
  if (origin) {
    const o = originHost(origin);
    if (!o || !cfg.allowedHosts.has(o.name)) {
      return refuse(403, `Refused a ${req.method} request from the page ${origin}: changes can only be made from petromap's own pages.`);
    }
    const https = origin.startsWith('https:');
    const own = [hostPort(hostHeader, https), hostPort(req.header('x-forwarded-host')?.split(',')[0] ?? null, https)];
    if (!own.includes(o.hostPort) && !cfg.extraHosts.has(o.name)) {
      return refuse(403, `Refused a ${req.method} request from ${origin}, another origin than this server's (${hostHeader}).`);
    }
    return { ok: true };
  }
  if (site === 'same-origin') return { ok: true };
  const type = (req.header('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (FORM_TYPES.has(type)) {
    return refuse(403, `Refused a ${req.method} form request without an Origin header: changes can only be made from petromap's own pages.`);
  }
  return { ok: true };
}
