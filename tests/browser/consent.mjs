// The admin-consent round trip in a real browser: the consent link goes to the (fake) Entra
// tenant, which sends the administrator back to the broker's callback page; that page says
// whether consent was granted, and a replayed callback is refused.
//
// Usage: node consent.mjs <consent link> <organization id> <expect: granted|declined>
import { run, check } from './lib.mjs';

const [link, organization, expect] = process.argv.slice(2);

await run(`admin consent callback page (${expect})`, { javaScriptEnabled: false }, async (page) => {
  const response = await page.goto(link);
  const callback = page.url();
  check(new URL(callback).pathname === '/admin/consent/callback', `landed on ${callback}`);
  const title = await page.textContent('h1');
  const text = await page.textContent('main');
  if (expect === 'granted') {
    check(response.status() === 200, `status ${response.status()}`);
    check(title === 'Consent granted', `title: ${title}`);
    check(text.includes(organization), `the page names the organization: ${text}`);
  } else {
    check(title === 'Consent was not granted', `title: ${title}`);
    check(/declined|denied|not granted/i.test(text), `the page says why: ${text}`);
  }
  // The same callback again: its state was single-use.
  const again = await page.goto(callback);
  check(again.status() >= 400, `a replayed callback must be refused, got ${again.status()}`);
  check((await page.textContent('h1')) !== 'Consent granted', 'the replay is not a second grant');
});
