// The login page in the reader's language and the customer's colours, in Chromium: the
// browser's language, `ui_locales` beating it, contoso's logo and colour on its users'
// password step and not on fabrikam's, screenshots of the light and dark page in two
// languages, and the contrast of every rendered button and link, computed from the page's
// own styles.
//
// Usage: node branding.mjs <authorize URL> <expected texts JSON> <screenshot folder> <base> <password>
//   texts: {"<lang>": {"title": …, "next": …, "password_title": …}, "contoso_logo": …,
//           "contoso_theme": …, "broker_logo": …, "contoso_colour": "#rrggbb"}
import { mkdirSync } from 'node:fs';
import { run, check } from './lib.mjs';

const [authorize, textsJson, shots, base, password] = process.argv.slice(2);
const texts = JSON.parse(textsJson);
mkdirSync(shots, { recursive: true });

// WCAG 2.1 relative luminance and contrast, from the computed `rgb()` / `rgba()` colours.
function contrastOf(page, selector) {
  return page.$$eval(selector, (els) => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a: a === undefined ? 1 : a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    // The colour behind an element: the first opaque background up the tree.
    const behind = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255 };
    };
    return els
      .filter((el) => el.offsetParent !== null)
      .map((el) => {
        const fg = parse(getComputedStyle(el).color);
        const bg = behind(el);
        const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        return { text: el.textContent.trim().slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05) };
      });
  });
}

async function checkContrast(page, where) {
  const found = await contrastOf(page, 'button, a, label, h1, p');
  check(found.length > 0, `${where}: nothing measured`);
  for (const { text, ratio } of found) {
    check(ratio >= 4.5, `${where}: "${text}" has a contrast of ${ratio.toFixed(2)}:1, below 4.5:1`);
  }
  return found.length;
}

async function identifierStep(page, who) {
  await page.locator('#identifier').fill(who);
  await page.locator('form[action="/login/identifier"] button').click();
  await page.waitForSelector('#password');
}

for (const scheme of ['light', 'dark']) {
  for (const lang of ['en', 'de']) {
    await run(`identifier step, ${lang}, ${scheme}`, { locale: lang === 'de' ? 'de-DE' : 'en-US', colorScheme: scheme, javaScriptEnabled: false }, async (page) => {
      await page.goto(authorize);
      check((await page.getAttribute('html', 'lang')) === lang, `html lang should be ${lang}`);
      check((await page.textContent('h1')) === texts[lang].title, `the title should read ${texts[lang].title}`);
      check((await page.getByRole('button', { name: texts[lang].next }).count()) === 1, 'the button speaks the language');
      const n = await checkContrast(page, `${lang} ${scheme}`);
      await page.screenshot({ path: `${shots}/login-${lang}-${scheme}.png`, fullPage: true });
      console.log(`  ${n} elements at 4.5:1 or more`);
    });
  }
}

await run('ui_locales beats the browser language', { locale: 'de-DE', javaScriptEnabled: false }, async (page) => {
  await page.goto(`${authorize}&ui_locales=fr`);
  check((await page.getAttribute('html', 'lang')) === 'fr', 'html lang should be fr');
  check((await page.textContent('h1')) === texts.fr.title, `the title should read ${texts.fr.title}`);
  await identifierStep(page, 'bob@fabrikam.com');
  check((await page.textContent('h1')) === texts.fr.password_title, 'the next step stays French');
});

for (const scheme of ['light', 'dark']) {
  await run(`a contoso user sees contoso's logo and colour (${scheme})`, { locale: 'en-US', colorScheme: scheme }, async (page) => {
    await page.goto(authorize);
    check((await page.getAttribute('#brand-logo', 'src')) === texts.broker_logo, 'the broker logo first');
    await identifierStep(page, 'ada@contoso.com');
    check((await page.getAttribute('#brand-logo', 'src')) === texts.contoso_logo, 'contoso logo on the password step');
    const logoOk = await page.$eval('#brand-logo', (img) => img.complete && img.naturalWidth > 0);
    check(logoOk, 'the logo loads (served by the broker, allowed by the CSP)');
    const bg = await page.$eval('form[action="/login/password"] button', (b) => getComputedStyle(b).backgroundColor);
    if (scheme === 'light') {
      const [r, g, b] = texts.contoso_colour.match(/[0-9a-f]{2}/g).map((h) => parseInt(h, 16));
      check(bg === `rgb(${r}, ${g}, ${b})`, `the button wears contoso's colour, was ${bg}`);
    }
    await checkContrast(page, `contoso ${scheme}`);
    await page.screenshot({ path: `${shots}/contoso-password-${scheme}.png`, fullPage: true });
  });
}

await run('a fabrikam user does not', { locale: 'en-US' }, async (page) => {
  await page.goto(authorize);
  await identifierStep(page, 'bob@fabrikam.com');
  check((await page.getAttribute('#brand-logo', 'src')) === texts.broker_logo, 'the broker logo');
  const themes = await page.$$eval('link[rel=stylesheet]', (ls) => ls.map((l) => l.getAttribute('href')));
  check(!themes.includes(texts.contoso_theme), 'no contoso theme');
  const bg = await page.$eval('form[action="/login/password"] button', (b) => getComputedStyle(b).backgroundColor);
  check(bg === 'rgb(37, 87, 214)', `the shipped colour, was ${bg}`);
});

await run('times in the reader\'s zone and language', { locale: 'de-DE', timezoneId: 'Asia/Tokyo' }, async (page) => {
  await page.goto(`${base}/account`);
  await identifierStep(page, 'bob@fabrikam.com');
  await page.locator('#password').fill(password);
  await page.locator('form[action="/login/password"] button').click();
  await page.waitForURL(`${base}/account`);
  const time = page.locator('#account-signed-in-at');
  const [shown, utc, iso] = [await time.textContent(), await time.getAttribute('title'), await time.getAttribute('datetime')];
  check(utc && utc.endsWith('UTC'), `the server wrote UTC: ${utc}`);
  check(shown.includes('(Asia/Tokyo)'), `shown in the browser's zone: ${shown}`);
  const tokyoHour = (new Date(iso).getUTCHours() + 9) % 24;
  check(shown.includes(`${String(tokyoHour).padStart(2, '0')}:`), `the hour is Tokyo's (${tokyoHour}): ${shown}`);
  check(/Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember/.test(shown), `in German: ${shown}`);
  await page.screenshot({ path: `${shots}/account-de-tokyo.png`, fullPage: true });
});
