// The admin console's whole flow in a real browser, JavaScript disabled, against the fake
// Entra and Graph: an operator signs in at /admin, creates the organisation from its tenant
// id, grants admin consent, fetches the tenant's users, searches them, imports two, switches
// single sign-on on for one. That user then signs in through Entra at an application (the
// account page); the other still gets the password step.
//
// Usage: node console_flow.mjs <broker base> <operator> <password> <tenant id> <sso user> <other user>
import { run, check } from './lib.mjs';

const [base, operator, password, tenant, ssoUser, otherUser] = process.argv.slice(2);

await run('from a new tenant to a user signing in by SSO', { javaScriptEnabled: false }, async (page, context) => {
  await page.goto(`${base}/admin`);
  await page.getByLabel('Email address').fill(operator);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`);

  // Create the organisation from its tenant id.
  await page.getByRole('link', { name: 'New organisation' }).click();
  await page.getByLabel('Id').fill('contoso');
  await page.getByLabel('Email domains').fill('contoso.com');
  await page.getByLabel('Sign in through').selectOption('entra');
  await page.getByLabel('Entra tenant').fill(tenant);
  await page.getByLabel('Single sign-on').selectOption('per_user');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  check((await page.textContent('h1')) === 'contoso', `created: ${page.url()}`);

  // Admin consent: out to the tenant, back to the callback, and back to the console.
  await page.getByRole('button', { name: 'Grant admin consent' }).click();
  await page.waitForURL(/\/admin\/consent\/callback/);
  check((await page.textContent('h1')) === 'Consent granted', await page.textContent('main'));
  await page.getByRole('link', { name: 'Back to the organisation in the admin console' }).click();
  check((await page.locator('#consent-state').textContent()).startsWith('granted'), 'consent shows granted');

  // Fetch, search, import two.
  await page.getByRole('link', { name: 'Fetch users' }).click();
  check((await page.locator('#tenant-users li').count()) > 2, 'the tenant lists its users');
  await page.getByLabel('Name or email starts with').fill(ssoUser.slice(0, 6));
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByLabel(ssoUser).check();
  await page.getByLabel(otherUser).check();
  await page.getByRole('button', { name: 'Import selected' }).click();
  check((await page.getByRole('status').textContent()).includes('2 users imported'), await page.textContent('main'));

  // Single sign-on on for one of them.
  await page.getByRole('button', { name: `Single sign-on for ${ssoUser}: off; switch it on` }).click();
  check(await page.getByRole('button', { name: `Single sign-on for ${ssoUser}: on; switch it off` }).isVisible(), 'switched on');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
});

await run('the SSO user signs in through Entra; the other gets the password step', { javaScriptEnabled: false }, async (page) => {
  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill(ssoUser);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(`${base}/account`);
  check((await page.locator('#account-email').textContent()) === ssoUser, 'signed in as the SSO user');
  check((await page.locator('#account-method').textContent()).startsWith('Single sign-on'), 'by single sign-on');
});

await run('the other imported user gets the password step', { javaScriptEnabled: false }, async (page) => {
  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill(otherUser);
  await page.getByRole('button', { name: 'Next' }).click();
  check(await page.getByLabel('Password').isVisible(), 'the password step');
});
