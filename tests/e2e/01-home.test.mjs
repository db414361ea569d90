import assert from 'node:assert/strict';
import { screenshot, test, trpc, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

test('home page lists the demo project', async ({ page, baseUrl, shared }) => {
  await page.goto(baseUrl + '/');
  const link = page.getByRole('link', { name: 'Demo sandstone' });
  await link.waitFor({ timeout: 20_000 });
  const row = page.locator('tr', { has: link });
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[1], 'mineralogy', `kind column: ${cells}`);
  assert.ok(Number(cells[2]) >= 2, `the demo has a volume and an EDS map, dataset count was ${cells[2]}`);
  assert.match(cells[3], /^\d{4}-\d\d-\d\d \d\d:\d\d$/, 'created date');
  // where a new user starts
  assert.match(await page.getByTestId('demo-hint').innerText(), /^New to petromap\? Open Demo sandstone: .*take its steps in order \(Correlate, Train, Results\)/);
  shared.demoHref = await link.getAttribute('href');
  await screenshot(page, 'home');
});

test('create a new project', async ({ page, baseUrl }) => {
  const name = `e2e plug ${Date.now() % 100000}`;
  await createProject(page, baseUrl, name, 'lithology');
  await waitFor(async () => (await page.getByTestId('project-name').innerText()) === name, 'new project title');
  assert.match(await page.locator('.page-head').innerText(), /lithology/);
  await page.getByText('No datasets yet', { exact: false }).waitFor({ timeout: 10_000 });
  await screenshot(page, 'project-new');
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name }).waitFor({ timeout: 10_000 });
});

test('jobs page renders', async ({ page, baseUrl }) => {
  await page.goto(baseUrl + '/jobs');
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  await waitFor(async () => (await page.getByTestId('job-table').count()) > 0 || (await page.getByText('No jobs yet').count()) > 0, 'job table or empty state');
  assert.equal(await page.locator('.error').count(), 0, 'no error on the jobs page');
  await screenshot(page, 'jobs');
});

test('workers page says where jobs run (embedded: in this server)', async ({ page, baseUrl }) => {
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name: 'Workers' }).click();
  await page.getByRole('heading', { name: 'Workers' }).waitFor();
  await page.getByTestId('workers-embedded').waitFor();
  assert.match(await page.getByTestId('workers-embedded').innerText(), /PETROMAP_REDIS_URL/);
  assert.equal(await page.locator('.error').count(), 0, 'no error on the workers page');
  await screenshot(page, 'workers');
});

test('a bad input reads in plain words over HTTP, not as zod issue JSON', async ({ baseUrl }) => {
  // the input is refused before the project is looked up: any well-formed id does
  const refused = (p) => p.then(() => assert.fail('the call should have been refused'), (e) => e.message);
  const epochs = await refused(trpc(baseUrl, 'train.start', { projectId: 'nosuchproject', epochs: 0 }, true));
  assert.equal(epochs, 'train.start: HTTP 400: Epochs: must be at least 1.');
  const name = await refused(trpc(baseUrl, 'projects.create', { name: 'x'.repeat(121) }, true));
  assert.equal(name, 'projects.create: HTTP 400: Name: must have at most 120 characters.');
  assert.doesNotMatch(epochs + name, /"code"|too_small|\[/);
});
