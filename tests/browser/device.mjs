// The /device page in a real browser, with JavaScript disabled: the code from
// verification_uri_complete is pre-filled but must be confirmed, the user signs in on the
// usual login page, sees which application asks, and allows it.
//
// Usage: node device.mjs <verification_uri_complete> <user_code> <email> <password> <client name>
import { run, check } from './lib.mjs';

const [complete, userCode, email, password, clientName] = process.argv.slice(2);

await run('device code entry, sign-in and approval', { javaScriptEnabled: false }, async (page) => {
  await page.goto(complete);
  check((await page.textContent('h1')) === 'Connect a device', 'the device page');
  const field = page.getByLabel('Code');
  check((await field.inputValue()) === userCode, `the code is pre-filled, got ${await field.inputValue()}`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(focused === 'user_code', `focus starts on the code field, was ${focused}`);

  // A wrong code first: an error tied to the field, nothing else happens.
  await field.fill('BCDF-GHJK');
  await page.getByRole('button', { name: 'Continue' }).click();
  const error = page.locator('#code-error');
  check(await error.isVisible(), 'an error is shown');
  check((await field.getAttribute('aria-describedby')) === 'code-error', 'the error is tied to the field');

  // The right code, typed loosely.
  await page.getByLabel('Code').fill(userCode.toLowerCase().replace('-', ' '));
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/login');
  check((await page.textContent('.sub')).includes(clientName), 'the login page names the app');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  check((await page.textContent('h1')) === `Allow ${clientName}?`, 'the approval page names the app');
  const body = await page.textContent('main');
  check(body.includes(userCode), 'it repeats the code');
  check(body.includes(email), 'it names the account');
  await page.getByRole('button', { name: 'Allow' }).click();
  check((await page.textContent('h1')) === 'Device connected', 'approved');
});
