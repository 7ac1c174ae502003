// Shared helpers for the browser tests: Debian's chromium, headless, no downloads.
import { chromium } from 'playwright-core';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

export function check(cond, message) {
  if (!cond) {
    throw new Error(`check failed: ${message}`);
  }
}

// Runs `body(page)` in a fresh context; on failure saves a screenshot next to the test.
export async function run(name, options, body) {
  const browser = await launch();
  const context = await browser.newContext(options);
  const page = await context.newPage();
  try {
    await body(page, context);
    console.log(`ok - ${name}`);
  } catch (e) {
    const shot = `${process.env.SCREENSHOT_DIR || '/tmp'}/idbroker-${name.replace(/\W+/g, '-')}.png`;
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`not ok - ${name}: ${e.stack || e}\n  url: ${page.url()}\n  screenshot: ${shot}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
