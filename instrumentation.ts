/**
 * Next.js start-up hook: open the workspace (migrations, interrupted jobs) and create the demo
 * project on first start.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { services } = await import('./server/services');
  const { ensureDemo } = await import('./server/demo');
  const { isWorkspaceLocked } = await import('./server/db/lock');
  let svc;
  try {
    svc = services();
  } catch (err) {
    // another server holds the workspace: refuse to start, with its message
    if (!isWorkspaceLocked(err)) throw err;
    console.error(`petromap: ${err.message}`);
    process.exit(1);
  }
  void ensureDemo(svc);
}
