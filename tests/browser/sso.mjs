// One SSO user through the login page in a real browser: the identifier step sends them to
// their Entra tenant (the fake signs them in at once), the broker's callback verifies the
// answer, and the account page shows who signed in and how.
//
// Usage: node sso.mjs <broker base URL> <email> <upstream authority URL>
import { run, check } from './lib.mjs';

const [base, email, authority] = process.argv.slice(2);

await run('single sign-on through the upstream and back', { javaScriptEnabled: false }, async (page) => {
  const visited = [];
  page.on('request', (r) => { if (r.isNavigationRequest()) visited.push(r.url()); });
  await page.goto(`${base}/account`);
  check(new URL(page.url()).pathname === '/login', `expected the login page, got ${page.url()}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(`${base}/account`);
  const upstream = visited.find((u) => u.startsWith(authority));
  check(upstream, `the browser never went to the upstream; visited:\n${visited.join('\n')}`);
  const sent = new URL(upstream);
  check(sent.searchParams.get('login_hint') === email, 'login_hint is the typed email');
  check(sent.searchParams.get('code_challenge_method') === 'S256', 'PKCE S256 upstream');
  check(visited.some((u) => u.startsWith(`${base}/upstream/callback?`)), 'back through the callback');
  check((await page.locator('#account-email').textContent()) === email, 'the account page shows the user');
  const method = await page.locator('#account-method').textContent();
  check(method === 'Single sign-on (Microsoft)', `it says how the user signed in: ${method}`);
  check((await page.getByLabel('Password').count()) === 0, 'no password field was needed');
});
