// Passkeys in a real browser, with JavaScript on and Chromium's virtual authenticator (the
// DevTools WebAuthn domain): register a passkey on /account, sign out, sign in with it at an
// application through autofill (conditional mediation) and through "Use a passkey" after the
// identifier. A second context without the credential sees the same identifier and password
// pages (the DOM, minus the per-page handles and challenges), and signs in with its password.
//
// Prints `CODE <how> <code>` for each sign-in at the application; the Rust side redeems them
// and checks `amr`/`acr`.
//
// Usage: node passkeys.mjs <broker base URL> <email> <password> <authorize URL> <redirect URI>
import { launch, check } from './lib.mjs';

const [base, email, password, authorize, redirect] = process.argv.slice(2);

async function waitFor(pred, what) {
  for (let i = 0; i < 100; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The page's HTML without what differs per page by design: the transaction, its CSRF token,
// the challenge's state handle and options.
const pageShape = (page) => page.evaluate(() => document.querySelector('main').outerHTML
  .replace(/name="(tx|csrf|state)" value="[^"]*"/g, 'name="$1" value=""')
  .replace(/data-options="[^"]*"/g, 'data-options=""'));

const browser = await launch();
let failed = false;
const step = async (name, body) => {
  try {
    await body();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed = true;
    console.error(`not ok - ${name}: ${e.stack || e}`);
  }
};

const withKey = await browser.newContext();
const page = await withKey.newPage();
const cdp = await withKey.newCDPSession(page);
await cdp.send('WebAuthn.enable');
const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
  options: {
    protocol: 'ctap2',
    transport: 'internal',
    hasResidentKey: true,
    hasUserVerification: true,
    isUserVerified: true,
    automaticPresenceSimulation: true,
  },
});
// The application's redirect URI (served by the Rust side) lands with the code.
const codeAt = async (p) => {
  await waitFor(() => p.url().startsWith(redirect), `the redirect to the application (at ${p.url()})`);
  return new URL(p.url()).searchParams.get('code');
};
const posted = [];
withKey.on('request', (r) => r.method() === 'POST' && posted.push(new URL(r.url()).pathname));
const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
const shapes = {};

await step('register a passkey on the account page', async () => {
  await page.goto(`${base}/account`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${base}/account`);
  await page.getByLabel('Name of the new passkey (optional)').fill('Chromium');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(`${base}/account#passkeys`);
  const list = await page.locator('#passkey-list').textContent();
  check(list.includes('Chromium'), `the passkey is listed: ${list}`);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  check(credentials.length === 1, `one credential, got ${credentials.length}`);
  check(credentials[0].isResidentCredential, 'a discoverable credential');
  check(credentials[0].rpId === 'localhost', `RP id ${credentials[0].rpId}`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await withKey.clearCookies();
});

await step('sign in at the application through autofill', async () => {
  posted.length = 0;
  await page.goto(authorize);
  // The conditional request resolves when the field has focus (the autofill's moment), or
  // at once: the virtual authenticator answers without showing a list.
  await page.locator('#identifier').click({ timeout: 2000 }).catch(() => {});
  const code = await codeAt(page);
  check(!posted.includes('/login/identifier'), `no address typed: ${posted}`);
  check(posted.includes('/login/passkey'), `the passkey was posted: ${posted}`);
  console.log(`CODE autofill ${code}`);
  await withKey.clearCookies();
});

await step('sign in at the application with "Use a passkey"', async () => {
  // The authenticator holds back (no presence) until the button is pressed, so the
  // autofill's request stays pending meanwhile.
  await presence(false);
  await page.goto(authorize);
  check(new URL(page.url()).pathname === '/login', `the login page, got ${page.url()}`);
  shapes.identifier = await pageShape(page);
  const auto = await page.locator('#identifier').getAttribute('autocomplete');
  check(auto === 'username webauthn', `autocomplete=${auto}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password').waitFor();
  shapes.password = await pageShape(page);
  await presence(true);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  console.log(`CODE explicit ${await codeAt(page)}`);
});

const without = await browser.newContext();
const other = await without.newPage();

await step('a browser without the credential sees the same pages', async () => {
  await other.goto(authorize);
  const identifier = await pageShape(other);
  check(identifier === shapes.identifier, `identifier step differs:\n${identifier}\n---\n${shapes.identifier}`);
  await other.getByLabel('Email address').fill(email);
  await other.getByRole('button', { name: 'Next' }).click();
  await other.getByLabel('Password').waitFor();
  const pw = await pageShape(other);
  check(pw === shapes.password, `password step differs:\n${pw}\n---\n${shapes.password}`);
  check(await other.getByRole('button', { name: 'Use a passkey' }).isVisible(), 'offered to everyone');
  // And the password still works, with JavaScript on.
  await other.getByLabel('Password').fill(password);
  await other.getByRole('button', { name: 'Sign in', exact: true }).click();
  console.log(`CODE password ${await codeAt(other)}`);
});

await browser.close();
if (failed) process.exitCode = 1;
