/**
 * Next.js start-up hook: open the workspace (migrations, interrupted jobs) and create the demo
 * project on first start.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { services } = await import('./server/services');
  const { ensureDemo } = await import('./server/demo');
  void ensureDemo(services());
}
