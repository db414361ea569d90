/**
 * The Jobs page (issue 16 §5): each job shows its project with a link to its result, its start
 * time and duration, the ETA while it runs, the error when it failed; the table filters by
 * project and state (kept in the URL) and cancels a job from the table. The job followed for its
 * ETA is a training of the demo (an automatic registration now takes about 2 s: the ETA, which
 * needs 2 s of progress, would never show); the job cancelled here waits in the queue behind it
 * (cancelling a running job is tested in tests/server/jobs-list.test.ts, where the job waits for
 * the test).
 */
import assert from 'node:assert/strict';
import { screenshot, test, trpc, waitFor } from './harness.mjs';

const ENDED = ['done', 'failed', 'cancelled', 'interrupted'];
const row = (page, id) => page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);

test('jobs page: project link, start and duration, ETA, error, filters, cancel from the table', async ({ page, baseUrl }) => {
  const demo = (await trpc(baseUrl, 'projects.list')).find((p) => p.name === 'Demo sandstone');
  const name = `e2e jobs ${Date.now() % 100000}`;
  const mine = await trpc(baseUrl, 'projects.create', { name, kind: 'mineralogy' }, true);

  // a failed job: an upload that is not a volume
  const up = await fetch(`${baseUrl}/api/projects/${mine.id}/upload?kind=volume&name=broken.nrrd`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'NRRD0004\nthis is not a volume\n' });
  assert.equal(up.status, 202, `upload accepted for import: ${up.status}`);
  const { jobId: failedId } = await up.json();
  const failed = await waitFor(async () => {
    const j = await trpc(baseUrl, 'jobs.byId', { id: failedId });
    return ENDED.includes(j.state) ? j : null;
  }, 'the import of broken.nrrd to end', 60_000, 500);
  assert.equal(failed.state, 'failed');

  // a long job to follow: a training of the demo (its registration accepted first if no test did)
  if (!(await trpc(baseUrl, 'train.state', { projectId: demo.id })).registrationAccepted) {
    const { jobId } = await trpc(baseUrl, 'correlate.autoRegister', { projectId: demo.id, model: 'similarity' }, true);
    const j = await waitFor(async () => {
      const j = await trpc(baseUrl, 'jobs.byId', { id: jobId });
      return ENDED.includes(j.state) ? j : null;
    }, 'the demo registration to end', 240_000, 1000);
    assert.equal(j.state, 'done', `demo registration: ${j.error ?? j.state}`);
    await trpc(baseUrl, 'correlate.accept', { projectId: demo.id }, true);
  }
  // a wide network and 30 epochs (early stopping may end it sooner), so that the training runs long
  // enough to show an ETA (the default one trains the demo in about 4 s on a quiet machine, and the
  // ETA needs 2 s of progress)
  const { jobId: runId } = await trpc(baseUrl, 'train.start', { projectId: demo.id, hidden: [256, 256], epochs: 30 }, true);
  // a registration behind it on the compute queue (one heavy job at a time), cancelled from the table
  const { jobId: cancelId } = await trpc(baseUrl, 'correlate.autoRegister', { projectId: demo.id, model: 'similarity' }, true);

  await page.goto(`${baseUrl}/jobs`);
  await page.getByTestId('job-table').waitFor({ timeout: 30_000 });
  const running = row(page, runId);
  await running.waitFor({ timeout: 20_000 });
  await waitFor(async () => (await running.getAttribute('data-state')) === 'running', 'the training job to run', 120_000);
  const eta = running.getByTestId('job-eta');
  await waitFor(async () => /about (\d+ (s|min)|\d+ h)/.test(await eta.innerText()), 'an ETA from the progress rate', 60_000);
  assert.match(await running.getByTestId('job-project').innerText(), /Demo sandstone · Train/);
  // what the job does in words, not its internal kind (`train`, `train-prepare`, `slab`)
  assert.match(await running.getByTestId('job-title').innerText(), /^Training the classifier #/);
  assert.equal(await running.getByTestId('job-result-link').getAttribute('href'), `/projects/${demo.id}/train`);
  assert.match(await running.getByTestId('job-started').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  const d1 = await running.getByTestId('job-duration').innerText();
  assert.match(d1, /^\d+ s$|^\d+ min \d+ s$/, `duration while running: ${d1}`);
  await screenshot(page, 'jobs-running-eta');

  // cancel from the table: the registration still waiting behind the training
  const waiting = row(page, cancelId);
  assert.equal(await waiting.getAttribute('data-state'), 'queued');
  await waiting.getByTestId('job-cancel').click();
  await waitFor(async () => (await waiting.getAttribute('data-state')) === 'cancelled', 'the queued registration cancelled from the table', 60_000);
  assert.equal(await waiting.getByTestId('job-cancel').count(), 0, 'no cancel button on an ended job');
  assert.equal(await waiting.getByTestId('job-duration').innerText(), '–', 'a job cancelled before it started has no duration');
  assert.equal(await waiting.getByTestId('job-eta').count(), 0, 'no ETA once ended');
  // the followed one runs to its end and keeps its duration
  await waitFor(async () => ENDED.includes(await running.getAttribute('data-state')), 'the followed training to end', 240_000);
  assert.match(await running.getByTestId('job-duration').innerText(), /^\d+ s$|^\d+ min \d+ s$/);
  assert.equal(await running.getByTestId('job-eta').count(), 0, 'no ETA once ended');

  // the failed import: its error, and its project with a link
  const bad = row(page, failedId);
  assert.equal(await bad.getAttribute('data-state'), 'failed');
  assert.match(await bad.getByTestId('job-error').innerText(), /broken\.nrrd/);
  assert.match(await bad.getByTestId('job-project').innerText(), new RegExp(`${name} · datasets`));
  assert.match(await bad.getByTestId('job-title').innerText(), /^Importing a dataset #/);

  // filters: by project, then by state; both kept in the URL
  await page.getByTestId('job-filter-project').selectOption(mine.id);
  await waitFor(async () => (await page.getByTestId('job-row').count()) === 1, 'only the jobs of the new project');
  await waitFor(async () => page.url().includes(`project=${mine.id}`), 'the project filter in the URL');
  await page.getByTestId('job-filter-state').selectOption('done');
  await page.getByText('No jobs match these filters.').waitFor({ timeout: 10_000 });
  await page.getByTestId('job-filter-state').selectOption('failed');
  await waitFor(async () => (await page.getByTestId('job-row').count()) === 1 && (await row(page, failedId).count()) === 1, 'the failed import under "failed"');
  await screenshot(page, 'jobs-filter-failed');
  await page.goto(`${baseUrl}/jobs?project=${demo.id}&state=cancelled`);
  await row(page, cancelId).waitFor({ timeout: 20_000 });
  const states = await page.getByTestId('job-state').allInnerTexts();
  assert.ok(states.length >= 1 && states.every((s) => s === 'cancelled'), `only cancelled jobs: ${states}`);
  assert.equal(await page.getByTestId('job-filter-state').inputValue(), 'cancelled');

  // the link leads to the job's result
  await row(page, cancelId).getByTestId('job-result-link').click();
  await page.waitForURL(new RegExp(`/projects/${demo.id}/correlate$`), { timeout: 20_000 });
  await trpc(baseUrl, 'projects.delete', { id: mine.id }, true);
}, { timeoutMs: 300_000 });
