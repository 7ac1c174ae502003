// The admin console in a real browser, with JavaScript disabled (the pages must not need
// it): an operator signs in at /admin through the login page, creates an organisation with
// the form, switches a user's single sign-on on with the keyboard-reachable button named after
// the user, and the pages fit a phone's width.
//
// Usage: node console.mjs <broker base URL> <operator email> <password> <a user of contoso>
import { run, check } from './lib.mjs';

const [base, operator, password, member] = process.argv.slice(2);

async function signIn(page) {
  await page.goto(`${base}/admin`);
  check(new URL(page.url()).pathname === '/login', `expected the login page, got ${page.url()}`);
  await page.getByLabel('Email address').fill(operator);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`);
}

await run('an operator creates an organisation and switches SSO on', { javaScriptEnabled: false }, async (page) => {
  await signIn(page);
  check((await page.textContent('h1')) === 'Organisations', 'the organisations page');
  check(await page.getByRole('link', { name: 'contoso' }).isVisible(), 'contoso is listed');

  await page.getByRole('link', { name: 'New organisation' }).click();
  // A refusal keeps what was typed and says why, in the file's words.
  await page.getByLabel('Id').fill('northwind');
  await page.getByLabel('Email domains').fill('northwind.com, contoso.com');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  const problems = await page.locator('#problems').textContent();
  check(problems.includes('is claimed by both organization "contoso" (defined in the policy file)'), problems);
  check((await page.getByLabel('Id').inputValue()) === 'northwind', 'the id is kept');
  await page.getByLabel('Email domains').fill('northwind.com');
  await page.getByLabel('Single sign-on').selectOption('off');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  check((await page.textContent('h1')) === 'northwind', `the new organisation's page, got ${page.url()}`);
  check((await page.getByRole('status').textContent()).includes('created'), 'a notice says so');

  await page.goto(`${base}/admin/organizations/contoso`);
  const off = page.getByRole('button', { name: `Single sign-on for ${member}: off; switch it on` });
  await off.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/done=sso-on/);
  check(await page.getByRole('button', { name: `Single sign-on for ${member}: on; switch it off` }).isVisible(),
    'the switch shows on');
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/idbroker-console-org.png`, fullPage: true });
});

await run('the console fits a phone', { javaScriptEnabled: false, viewport: { width: 390, height: 844 } }, async (page) => {
  await signIn(page);
  for (const path of ['/admin', '/admin/organizations/contoso', '/admin/organizations/new']) {
    await page.goto(`${base}${path}`);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    check(fits, `${path} is no wider than the phone`);
  }
  await page.goto(`${base}/admin/organizations/contoso`);
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || '/tmp'}/idbroker-console-phone.png`, fullPage: true });
});
