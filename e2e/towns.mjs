// Issue 19's browser walk: the demo's two towns on one install, each on its own host name
// (Chromium resolves `*.localhost` to this machine). Each login page shows its own town, its
// contact and its public documents; each family sees its own town's restaurants only; a host
// that is no town's lists the two portals. Screenshots 80-84.
//
// With `prefixes`, the same two towns share one host name, each under its path prefix
// (`portail.localhost/camargue`): every page, link, form and redirect must stay under the
// town's prefix. Screenshots 85-89.
//
// Usage: node e2e/towns.mjs <port> [prefixes]

import { startWalk } from './walk.mjs';

const port = process.argv[2];
const prefixes = process.argv[3] === 'prefixes';
const baseOf = (host, prefix) =>
  prefixes ? `http://portail.localhost:${port}/${prefix}` : `http://${host}:${port}`;
const towns = [
  {
    base: baseOf('camargue.localhost', 'camargue'),
    name: 'Communauté de communes Terre de Camargue',
    phone: '04.66.71.71.55',
    login: 'famille.dupont@example.fr',
    password: 'cantine-dupont',
    child: /DUPONT Hervé/,
    restaurants: ['Restaurant Scolaire Le Repausset', 'Restaurant Scolaire Charles Gros'],
    shot: 'camargue',
  },
  {
    base: baseOf('carcassonne.localhost', 'carcassonne'),
    name: 'Ville de Carcassonne',
    phone: '04.68.77.71.11',
    login: 'famille.garcia@example.fr',
    password: 'cantine-garcia',
    child: /GARCIA Lucas/,
    restaurants: ['Restaurant scolaire Jean Jaurès'],
    shot: 'carcassonne',
  },
];

const walk = prefixes
  ? await startWalk({ name: 'towns under prefixes', first: 85, last: 89, failureShot: 'echec-communes-prefixes.png' })
  : await startWalk({ name: 'towns', first: 80, last: 84, failureShot: 'echec-communes.png' });
const shot = name => (prefixes ? `${name}-prefixe` : name);
const { page, context, check, expectText, expectNoText, visit } = walk;

await walk.finish(async () => {
  // A host that is no town's: the list of the towns' portals.
  await page.goto(`http://127.0.0.1:${port}/`);
  await expectText('Portails des communes', towns[0].name, towns[1].name);
  const styled = await page.evaluate(() => getComputedStyle(document.querySelector('header') ?? document.body).backgroundColor);
  check(styled !== 'rgba(0, 0, 0, 0)', `the list of portals has the portal's stylesheet (${styled})`);
  for (const town of towns) {
    const href = await page.getByRole('link', { name: town.name }).getAttribute('href');
    check(href === `${town.base}/connexion`, `the list leads to ${town.base}/connexion (${href})`);
  }
  await visit(shot('portails-des-communes'));

  for (const [i, town] of towns.entries()) {
    const other = towns[1 - i];
    await page.goto(`${town.base}/connexion`);
    await expectText(town.name, town.phone, 'Délibération des tarifs', 'Règlement intérieur');
    await expectNoText(other.name, other.phone);
    await visit(shot(`connexion-${town.shot}`));

    await page.focus('#identifiant');
    await page.keyboard.type(town.login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(town.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /Mon compte famille/ }).waitFor();
    await page.getByRole('link', { name: '+ Nouvelle réservation' }).first().click();
    await page.getByRole('link', { name: town.child }).click();
    await expectText(...town.restaurants);
    await expectNoText(...other.restaurants);
    check(page.url().startsWith(`${town.base}/`), `the portal stays under ${town.base} (${page.url()})`);
    await visit(shot(`restaurants-${town.shot}`));

    // This family's session, presented to the other town's portal, opens nothing there.
    const session = (await context.cookies(town.base)).find(c => c.name === 'cantine_session');
    check(Boolean(session), `a session on ${town.shot}`);
    await context.clearCookies();
    await context.addCookies([{ name: 'cantine_session', value: session?.value ?? '', url: other.base }]);
    const elsewhere = await page.goto(`${other.base}/`);
    check(elsewhere.status() === 401, `the session of ${town.shot} opens nothing on the other town (401)`);
    await expectText('Connexion à votre espace', other.name);
    await context.clearCookies();
  }
});
