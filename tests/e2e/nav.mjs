/** Navigation helpers shared by the e2e tests. */

/** Open the demo project from the home page (no ids hard-coded). */
export async function openDemo(page, baseUrl) {
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name: 'Demo sandstone' }).click();
  await page.waitForURL(/\/projects\/[^/]+$/);
  await page.getByTestId('dataset-table').waitFor({ timeout: 20_000 });
}


/**
 * Create a project from the home page. Waits until the page is hydrated (the project list has
 * loaded through tRPC) before typing, and types again if hydration reset the field.
 */
export async function createProject(page, baseUrl, name, kind = 'mineralogy') {
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name: 'Demo sandstone' }).first().waitFor({ timeout: 30_000 });
  const button = page.getByRole('button', { name: 'Create project' });
  for (let i = 0; i < 20; i++) {
    await page.getByTestId('new-project-name').fill(name);
    await page.getByTestId('new-project-kind').selectOption(kind);
    if (await button.isEnabled()) break;
    await page.waitForTimeout(250);
  }
  await button.click();
  await page.waitForURL(/\/projects\/[^/]+$/, { timeout: 20_000 });
}
