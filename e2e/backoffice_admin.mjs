// The administrators' back office walked in headless Chromium on the demo: an admin logs in,
// opens the families, creates one (a wrong e-mail first: the French error shows next to the
// field), opens its page, adds a child, then the restaurants, a period's closures and its
// prices. axe-core runs on every page (any serious or critical violation fails), and every page
// is saved as a screenshot at desktop and phone width, numbered from 50.
//
// Usage: node e2e/backoffice_admin.mjs <base-url> <admin-login> <password>
// Env: SCREENSHOTS (folder, default docs/screenshots), CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, login, password] = process.argv.slice(2);
if (!base || !login || !password) {
  console.error('usage: node backoffice_admin.mjs <base-url> <admin-login> <password>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = process.env.SCREENSHOTS ?? join(here, '..', 'docs', 'screenshots');
mkdirSync(shots, { recursive: true });
// This walk owns the numbers 50 to 69: a page renamed or removed leaves no old picture behind.
for (const old of readdirSync(shots).filter(f => /^([56]\d-.*|echec-administration)\.png$/.test(f))) {
  rmSync(join(shots, old));
}
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const FIRST = 50;

const profile = mkdtempSync(join(tmpdir(), 'cantine-e2e-admin-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: DESKTOP,
  locale: 'fr-FR',
  // axe is injected as a script; the pages' CSP rightly allows no inline script.
  bypassCSP: true,
});
const page = context.pages()[0] ?? await context.newPage();
const failures = [];
let pages = 0;

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
}

/// axe on the page as it stands, every field labelled, then both screenshots.
async function visit(name) {
  const file = `${FIRST + pages}-${name}`;
  pages += 1;
  console.log(`${file}: ${page.url()} — ${await page.title()}`);
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
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select')]
    .filter(f => !f.labels || f.labels.length === 0).map(f => f.id || f.name));
  check(unlabelled.length === 0, `every field of ${name} has a label (${unlabelled.join(', ')})`);
  await page.screenshot({ path: join(shots, `${file}-ordinateur.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(shots, `${file}-telephone.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${name} fits a phone's width (overflow ${overflow}px)`);
  await page.setViewportSize(DESKTOP);
}

const menu = () => page.getByRole('navigation', { name: 'Menu de gestion' });

try {
  // The administrator logs in with the keyboard and lands on the back office's home.
  const first = await page.goto(`${base}/gestion`);
  check(first.status() === 401, 'the back office without a session answers the login form (401)');
  await page.focus('#identifiant');
  await page.keyboard.type(login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /Espace de gestion – Administration/ }).waitFor();
  await expectText('Vos espaces', 'Familles', 'Restaurants', 'Périodes',
    'envoyer le mail « Générer votre mot de passe »');
  check(!(await text()).includes('Finances'), 'the finance section is not offered to an admin');
  await visit('accueil-administration');

  // The families: the demo's, found by a search.
  await menu().getByRole('link', { name: 'Familles' }).click();
  await expectText('Rechercher une famille', 'DUPONT', 'famille.dupont@example.fr', 'Créer une famille');
  check(await menu().getByRole('link', { name: 'Familles' }).getAttribute('aria-current') === 'page',
    'the menu marks the current section');
  await page.getByLabel('Nom ou adresse e-mail').fill('dupont');
  await page.getByRole('button', { name: 'Rechercher' }).click();
  await expectText('1 famille pour « dupont »', 'famille.dupont@example.fr');
  check(!(await text()).includes('famille.martin@example.fr'), 'the search leaves the other families out');
  await visit('familles');

  // A new family: a wrong e-mail first, refused in French next to the field, the form refilled.
  await page.getByLabel('Nom de la famille').fill('LEROY');
  await page.getByLabel("Adresse e-mail (l'identifiant de la famille)").fill('leroy-sans-arobase');
  await page.getByLabel('Quotient familial (en euros, facultatif)').fill('450');
  // The browser's own check of type="email" is bypassed: the server's refusal is the one shown.
  await page.locator('form', { has: page.getByRole('button', { name: 'Créer la famille' }) })
    .evaluate(f => { f.noValidate = true; });
  await page.getByRole('button', { name: 'Créer la famille' }).click();
  await expectText('La famille n\'a pas été créée : rien n\'a été modifié',
    'Écrivez une adresse e-mail valide');
  check(await page.getByLabel("Adresse e-mail (l'identifiant de la famille)").getAttribute('aria-invalid') === 'true',
    'the e-mail field is marked invalid');
  check(await page.getByLabel('Nom de la famille').inputValue() === 'LEROY', 'the form is filled in again');
  check(new URL(page.url()).hash === '#nouvelle', 'the refused form comes back scrolled to itself');
  await visit('famille-refusee');
  await page.getByLabel("Adresse e-mail (l'identifiant de la famille)").fill('leroy@example.fr');
  await page.getByRole('button', { name: 'Créer la famille' }).click();
  await page.getByRole('heading', { level: 1, name: 'Famille LEROY' }).waitFor();
  await expectText('Famille créée', 'Le mail « Générer votre mot de passe » est parti', 'leroy@example.fr',
    '450 €', 'Mot de passe pas encore choisi', "Le compte n'est pas verrouillé", 'Aucun enfant');
  await visit('famille');

  // A child, with a meal option.
  await page.getByLabel('Prénom').last().fill('Léa');
  await page.getByLabel('Nom', { exact: true }).last().fill('LEROY');
  await page.getByLabel('Menu').last().selectOption({ label: 'Végétarien' });
  await page.getByRole('button', { name: "Ajouter l'enfant" }).click();
  await expectText('Enfant ajouté', 'Léa LEROY', 'Menu : Végétarien');
  await visit('famille-enfant');

  // The restaurants.
  await menu().getByRole('link', { name: 'Restaurants' }).click();
  await expectText('Restaurant Scolaire Le Repausset', 'Restaurant Scolaire Charles Gros',
    'Capacité (places par jour)', 'Créer un restaurant');
  await visit('restaurants');

  // The periods with their rules in words, then Le Repausset's closures and prices.
  await menu().getByRole('link', { name: 'Périodes' }).click();
  await expectText('Restauration Le Repausset 2016-2017', 'lundi, mardi, jeudi, vendredi',
    'Vous devez réserver avant le mardi de la semaine précédente, 09:30');
  await visit('periodes');
  await page.getByRole('link', { name: /Fermetures, capacités et prix de Restauration Le Repausset 2016-2017/ }).click();
  await expectText('Règles de la période', 'Fermetures', 'Capacités', 'Capacité habituelle',
    'Prix selon le quotient familial');
  const row = page.locator('fieldset', { hasText: 'Nouvelle fermeture' }).first();
  await row.getByLabel('Motif').fill('Grève');
  await row.getByLabel('Du', { exact: true }).fill('2017-02-02');
  await row.getByLabel('Au (inclus)').fill('2017-02-02');
  await page.getByRole('button', { name: 'Enregistrer les fermetures' }).click();
  await expectText('Fermetures enregistrées', 'Grève : le 02/02/2017');
  await visit('periode-fermetures');

  await page.getByLabel('En vigueur à partir du').fill('2017-02-01');
  await page.getByLabel('Tranche 1 : quotient jusqu\'à (€)').fill('500');
  await page.getByLabel('Tranche 1 : prix du repas (€)').fill('1,50');
  await page.getByLabel('Tranche 2 : quotient jusqu\'à (€)').fill('1000');
  await page.getByLabel('Tranche 2 : prix du repas (€)').fill('3,00');
  await page.getByLabel('Au-delà de la dernière tranche : prix du repas (€)').fill('4,97');
  await page.getByRole('button', { name: 'Ajouter la grille' }).click();
  await expectText('Grille de prix ajoutée', 'Grille à partir du 01/02/2017', 'Jusqu\'à 500 €', '1,50 €',
    'De 501 € à 1000 €', '3,00 €', 'Au-delà de 1000 €', '4,97 €');
  await page.locator('#prix').scrollIntoViewIfNeeded();
  await visit('periode-prix');

  // A new period: Wednesdays at Le Repausset, invoiced at the end of the month.
  await menu().getByRole('link', { name: 'Périodes' }).click();
  await page.getByLabel('Restaurant', { exact: true }).selectOption({ label: 'Restaurant Scolaire Le Repausset' });
  await page.getByLabel('Activité').fill('CENTRE DE LOISIRS');
  await page.getByLabel('Nom de la période').fill('Mercredis 2017');
  await page.getByLabel('Du', { exact: true }).fill('2017-03-01');
  await page.getByLabel('Au (inclus)').fill('2017-06-28');
  for (const day of ['lundi', 'mardi', 'jeudi', 'vendredi']) {
    await page.getByLabel(day, { exact: true }).uncheck();
  }
  await page.getByLabel('mercredi', { exact: true }).check();
  await page.getByLabel('Mode de paiement').selectOption({ label: 'facturé en fin de mois' });
  await page.getByLabel('Prix du repas (€)').fill('3,80');
  await page.getByRole('button', { name: 'Créer la période' }).click();
  await page.getByRole('heading', { level: 1, name: /Mercredis 2017/ }).waitFor();
  await expectText('Période créée', 'CENTRE DE LOISIRS', 'mercredi', 'Facturé en fin de mois', '3,80 €',
    'Lundi de Pâques');
  await visit('periode-creee');

  // A form without its session's CSRF token is refused, and changes nothing.
  const forged = await page.request.post(`${base}/gestion/familles`,
    { form: { csrf: '00', nom: 'FAUX', email: 'faux@example.fr' }, maxRedirects: 0 });
  check(forged.status() === 403, `a form without its CSRF token is refused (${forged.status()})`);
  check((await forged.text()).includes('Formulaire refusé'), 'the refusal is a French page');

  await page.getByRole('button', { name: 'Déconnexion' }).click();
  await expectText('Connexion');
  const after = await page.goto(`${base}/gestion/familles`);
  check(after.status() === 401, 'after logout the families need a login again');
} catch (e) {
  failures.push(`the walk stopped: ${e.stack ?? e}`);
  console.error(e);
  await page.screenshot({ path: join(shots, 'echec-administration.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`\n${failures.length} failure(s):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`\nadministration walked: ${pages} pages checked with axe, screenshots in ${shots}`);
