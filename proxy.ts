/**
 * Every request passes the Host/Origin guard of server/http-guard.ts (DNS rebinding, cross-site
 * form posts); see there for the rules. Thin on purpose: the decision is a tested pure function.
 *
 * Not matched: static assets, and the three routes that take large bodies (upload, painted-slice
 * PUT, painted pore/solid slice PUT). With a proxy, Next buffers a matched request's body in memory and passes on only its first
 * 10 MB (experimental.proxyClientMaxBodySize), which would break multi-GB uploads; those routes
 * call the same guard themselves (guardResponse in server/http.ts).
 */
import { checkRequest, guardConfigFromEnv, type GuardConfig } from './server/http-guard';

let cached: { key: string; cfg: GuardConfig } | undefined;

function guardConfig(): GuardConfig {
  const env = process.env;
  const key = `${env.HOST ?? ''}|${env.__NEXT_PRIVATE_ORIGIN ?? ''}|${env.PETROMAP_ALLOWED_HOSTS ?? ''}`;
  if (cached?.key !== key) cached = { key, cfg: guardConfigFromEnv(env) };
  return cached.cfg;
}

export function proxy(request: Request) {
  const d = checkRequest({ method: request.method, header: (n) => request.headers.get(n) }, guardConfig());
  if (!d.ok) return Response.json({ error: d.reason }, { status: d.status });
  return undefined;
}

export const config = {
  matcher: ['/((?!_next/static/|_next/image|favicon\\.ico$|api/projects/[^/]+/upload(?:/|$)|api/projects/[^/]+/annotations/slice(?:/|$)|api/projects/[^/]+/multiscale/pores(?:/|$)).*)'],
};
