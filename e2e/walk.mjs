// What every browser walk of the service shares: a fresh headless Chromium, checks that are
// logged and counted, waiting for a page's text, and `visit` (axe-core on the page as it stands:
// any serious or critical violation fails; lang="fr"; screenshots at desktop and phone width; no
// sideways scrolling on a phone). Each walk numbers its screenshots in a range of its own and
// removes only its own old ones, so that walks can be added without touching each other:
// 01-19 the first guide, 20-29 the second, 30-49 the staff back office, 50-69 the admin's pages.
//
// Usage: const walk = await startWalk({ name: 'back office', first: 30, last: 49 });
//        ... walk.page, walk.check(...), await walk.expectText(...), await walk.visit('name') ...
//        await walk.finish(async () => { ...the steps... });

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const here = dirname(fileURLToPath(import.meta.url));

export async function startWalk({ name, first, last, failureShot }) {
  const shots = process.env.SCREENSHOTS ?? join(here, '..', 'docs', 'screenshots');
  mkdirSync(shots, { recursive: true });
  // A step renamed or removed must not leave its old picture behind; other walks' stay.
  for (const old of readdirSync(shots)) {
    const m = /^(\d\d)-.*\.png$/.exec(old);
    if ((m && Number(m[1]) >= first && Number(m[1]) <= last) || old === failureShot) {
      rmSync(join(shots, old));
    }
  }
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const profile = mkdtempSync(join(tmpdir(), 'cantine-e2e-'));
  // launchPersistentContext: a fresh user-data-dir of our own, as the machine notes require.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: DESKTOP,
    locale: 'fr-FR',
    // axe is injected as a script; the pages' CSP rightly allows no inline script.
    bypassCSP: true,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? await context.newPage();
  const failures = [];
  let step = first - 1;
  let audited = 0;

  function check(condition, what) {
    if (!condition) {
      failures.push(what);
      console.error(`  ✗ ${what}`);
    } else {
      console.log(`  ✓ ${what}`);
    }
  }

  async function text() {
    return (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  }

  const found = (body, needle) => needle instanceof RegExp ? needle.test(body) : body.includes(needle);

  /// Waits (up to 5 s) for the page to show every needle: a click's next page may still be loading.
  async function expectText(...needles) {
    let body = '';
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      await page.waitForLoadState('load').catch(() => {});
      body = await text().catch(() => '');
      if (needles.every(needle => found(body, needle))) break;
      await page.waitForTimeout(100);
    }
    for (const needle of needles) {
      check(found(body, needle), `page shows ${needle}`);
    }
    return body;
  }

  /// The page must not show this (checked once the page has loaded).
  async function expectNoText(...needles) {
    await page.waitForLoadState('load').catch(() => {});
    const body = await text().catch(() => '');
    for (const needle of needles) {
      check(!found(body, needle), `page does not show ${needle}`);
    }
  }

  /// axe on the page as it stands, its language, a label on every field, and its fit on a
  /// phone; no screenshot (a page on the way, not a step of the guide).
  async function audit(name) {
    audited += 1;
    console.log(`${name}: ${page.url()} — ${await page.title()}`);
    await page.addScriptTag({ content: axeSource });
    const results = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      await axe.run(document, { resultTypes: ['violations'] }));
    const grave = results.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
    for (const v of results.violations) {
      console.log(`  axe ${v.impact}: ${v.id} — ${v.help} (${v.nodes.length} node(s): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`);
    }
    check(grave.length === 0, `no serious or critical axe violation on ${name}`);
    check((await page.getAttribute('html', 'lang')) === 'fr', `${name} is in French (lang="fr")`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter(f => !f.labels || f.labels.length === 0).map(f => f.id || f.name));
    check(unlabelled.length === 0, `every field of ${name} has a label (${unlabelled.join(', ')})`);
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${name} fits a phone's width (overflow ${overflow}px)`);
    await page.setViewportSize(DESKTOP);
  }

  /// At a phone's width, no box of the page scrolls sideways: a table's last column (an amount)
  /// is never cut off inside its box.
  async function boxesFit(name) {
    await page.setViewportSize(PHONE);
    const cut = await page.evaluate(() => [...document.querySelectorAll('.scroll')]
      .filter(box => box.scrollWidth > box.clientWidth + 1)
      .map(box => `${box.querySelector('caption')?.innerText ?? 'a box'} (${box.scrollWidth - box.clientWidth}px)`));
    check(cut.length === 0, `on a phone, nothing of ${name} is cut inside a side-scrolling box (${cut.join(', ')})`);
    await page.setViewportSize(DESKTOP);
  }

  /// A step of the walk: the audit, then both screenshots, numbered in the walk's range.
  async function visit(shot) {
    step += 1;
    if (step > last) throw new Error(`more screenshots than the range ${first}-${last}`);
    const file = `${String(step).padStart(2, '0')}-${shot}`;
    await audit(file);
    await page.screenshot({ path: join(shots, `${file}-ordinateur.png`), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(shots, `${file}-telephone.png`), fullPage: true });
    await page.setViewportSize(DESKTOP);
  }

  /// Logs in through the form with the keyboard and waits for the heading of the landing page.
  async function logIn(login, password, heading) {
    await page.goto(`${process.argv[2]}/connexion`);
    await page.focus('#identifiant');
    await page.keyboard.type(login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /// Runs the steps, then closes the browser and exits 1 on any failure.
  async function finish(steps) {
    try {
      await steps();
    } catch (e) {
      failures.push(`the walk stopped: ${e.stack ?? e}`);
      console.error(e);
      if (failureShot) {
        await page.screenshot({ path: join(shots, failureShot), fullPage: true }).catch(() => {});
      }
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
    if (failures.length) {
      console.error(`\n${failures.length} failure(s):\n- ${failures.join('\n- ')}`);
      process.exit(1);
    }
    console.log(`\n${name} walked: ${audited} pages checked with axe, ${step - first + 1} steps saved in ${shots}`);
  }

  return { page, context, check, expectText, expectNoText, audit, visit, boxesFit, logIn, finish, text };
}
