/** Navigation helpers shared by the e2e tests. */

/** Open the demo project from the home page (no ids hard-coded). */
export async function openDemo(page, baseUrl) {
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name: 'Demo sandstone' }).click();
  await page.waitForURL(/\/projects\/[^/]+$/);
  await page.getByTestId('dataset-table').waitFor({ timeout: 20_000 });
}

