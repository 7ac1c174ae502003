// One-time codes in a real browser, with JavaScript disabled (the pages must not need it):
// the set-up on the account page (an inline SVG QR code the CSP allows, the key, the
// recovery codes), then the code step of the next sign-in (its field's autocomplete and
// input mode, focus, the error tied to the field). Codes are computed here (RFC 6238
// HMAC-SHA-1, 6 digits, 30 s), as an authenticator app would.
//
// Usage: node mfa.mjs <broker base URL> <email> <password>
import { createHmac } from 'node:crypto';
import { run, check } from './lib.mjs';

const [base, email, password] = process.argv.slice(2);

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// The code of `secret` at `seconds` (RFC 4226 §5.3 dynamic truncation).
function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, '0');
}

await run('one-time codes: set up on the account page, then asked at sign-in', { javaScriptEnabled: false }, async (page) => {
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });

  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/account`);
  check((await page.locator('#totp-status').textContent()).includes('password alone'), 'codes are off');

  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
  check(await qr.isVisible(), 'the QR code has an accessible name');
  const box = await page.locator('#totp-qr svg').boundingBox();
  check(box && box.width >= 150 && box.height >= 150, `the QR code is drawn large enough: ${JSON.stringify(box)}`);
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  check(/^[A-Z2-7 ]{32,}$/.test(secret), `the key is base32 in groups: ${secret}`);

  await page.getByLabel('Code from the app').fill(totp(secret, Date.now() / 1000));
  await page.getByRole('button', { name: 'Turn on' }).click();
  check((await page.textContent('h1')) === 'Save your recovery codes', 'the recovery codes follow');
  check((await page.locator('#recovery-codes li').count()) === 10, 'ten recovery codes');
  await page.getByRole('link', { name: 'Back to your account' }).click();
  check((await page.locator('#totp-status').textContent()).includes('on since'), 'codes are on');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  check((await page.textContent('h1')) === 'Enter your code', 'the code step after the password');
  const field = page.getByLabel('Code', { exact: true });
  check((await field.getAttribute('autocomplete')) === 'one-time-code', 'autofill of one-time codes');
  check((await field.getAttribute('inputmode')) === 'numeric', 'a numeric keyboard');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(focused === 'code', `focus on the code field, was ${focused}`);

  await field.fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  const error = page.locator('#code-error');
  check((await error.textContent()).includes('not right'), 'a wrong code is said so');
  const described = await page.getByLabel('Code', { exact: true }).getAttribute('aria-describedby');
  check(described.split(' ').includes('code-error'), 'the error is tied to the field');

  // The set-up spent the current step: the next one (a phone a little ahead) is accepted.
  await page.getByLabel('Code', { exact: true }).fill(totp(secret, Date.now() / 1000 + 30));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/account`);
  const method = await page.locator('#account-method').textContent();
  check(method === 'Password and a second step', `the account page says how: ${method}`);
  check(violations.length === 0, `no CSP violations: ${violations.join('; ')}`);
});
