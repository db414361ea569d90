/**
 * Next.js start-up hook: open the workspace (migrations, interrupted jobs) and create the demo
 * project on first start.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { services } = await import('./server/services');
  const { ensureDemo } = await import('./server/demo');
  const { exitIfWorkspaceLocked } = await import('./server/db/lock');
  let svc;
  try {
    svc = services();
  } catch (err) {
    // another server holds the workspace: refuse to start, with its message
    exitIfWorkspaceLocked(err);
    throw err;
  }
  void ensureDemo(svc);
}
