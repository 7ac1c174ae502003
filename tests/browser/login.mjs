// The login page in a real browser, with JavaScript disabled (the pages must not need it):
// the account page's sign-in, keyboard focus, accessible names, the error tied to its
// field, and sign-out.
//
// Usage: node login.mjs <broker base URL> <email> <password>
import { run, check } from './lib.mjs';

const [base, email, password] = process.argv.slice(2);

await run('password sign-in through the account page', { javaScriptEnabled: false }, async (page) => {
  await page.goto(`${base}/account`);
  // Redirected to the identifier step; the email field has focus and an accessible name.
  check(new URL(page.url()).pathname === '/login', `expected the login page, got ${page.url()}`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  // With JS disabled page.evaluate still runs in the utility world.
  check(focused === 'identifier', `focus should start on the email field, was ${focused}`);
  await page.getByLabel('Email address').fill(email.toUpperCase());
  await page.getByRole('button', { name: 'Next' }).click();

  // Password step: a wrong password first.
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.locator('#password-error');
  check(await error.isVisible(), 'an error is shown');
  check((await error.textContent()).includes('incorrect'), 'the error says what went wrong');
  const described = await page.getByLabel('Password').getAttribute('aria-describedby');
  check(described === 'password-error', 'the error is tied to the password field');

  // Then the right one, submitted with the keyboard.
  await page.getByLabel('Password').fill(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/account`);
  check((await page.locator('#account-email').textContent()) === email, 'the account page shows the user');
  check((await page.locator('#account-method').textContent()) === 'Password', 'it says how the user signed in');
  check((await page.locator('#sessions li').count()) >= 1, 'it lists the sessions');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  check((await page.textContent('h1')) === 'You are signed out', 'signed out');
  await page.goto(`${base}/account`);
  check(new URL(page.url()).pathname === '/login', 'after sign-out the account page asks to sign in again');
});

await run('unknown user sees the same password step and message', { javaScriptEnabled: false }, async (page) => {
  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill('nobody@example.com');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill('whatever');
  await page.getByRole('button', { name: 'Sign in' }).click();
  check((await page.locator('#password-error').textContent()).includes('incorrect'), 'same message');
  await page.getByRole('button', { name: 'Use a different account' }).click();
  check(await page.getByLabel('Email address').isVisible(), 'back at the identifier step');
});
