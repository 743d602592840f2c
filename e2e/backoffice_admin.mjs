// The administrators' back office walked in headless Chromium on the demo: an admin logs in,
// opens the families, creates one (a wrong e-mail first: the French error shows next to the
// field), opens its page, adds a child, then the restaurants, a period's closures and its
// prices, and gives the kitchen's colleague a new password. axe-core runs on every page (any serious or critical violation fails), and every page
// is saved as a screenshot at desktop and phone width, numbered from 50.
//
// Usage: node e2e/backoffice_admin.mjs <base-url> <admin-login> <password>
// Env: SCREENSHOTS (folder, default docs/screenshots), CHROMIUM (default /usr/bin/chromium).

import { startWalk } from './walk.mjs';

const [base, login, password] = process.argv.slice(2);
if (!base || !login || !password) {
  console.error('usage: node backoffice_admin.mjs <base-url> <admin-login> <password>');
  process.exit(2);
}

const walk = await startWalk({ name: 'administration', first: 50, last: 69, failureShot: 'echec-administration.png' });
const { page, check, expectText, audit, visit, text } = walk;

const menu = () => page.getByRole('navigation', { name: 'Menu de gestion' });

await walk.finish(async () => {
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

  // The staff: the kitchen's colleague lost their password and gets a new one, shown once.
  await menu().getByRole('link', { name: 'Personnel' }).click();
  await expectText('Comptes du personnel', 'cuisine', 'Cuisine', '(vous)', 'Actif',
    'cantine staff unlock --login');
  await visit('personnel');
  await page.getByRole('button', { name: 'Nouveau mot de passe pour cuisine' }).click();
  await expectText('Nouveau mot de passe de cuisine', "n'est affiché qu'une fois");
  await visit('personnel-mot-de-passe');

  // The front desk: a family's file, from the families list.
  await menu().getByRole('link', { name: 'Familles' }).click();
  await page.getByRole('link', { name: 'Dossier de la famille DUPONT' }).first().click();
  await expectText('Dossier de la famille DUPONT', 'Solde', 'Réservations', 'Relevé de compte',
    'Réserver pour un enfant');
  await visit('dossier-famille');

  // Every staff member's own account: the password, changed with the current one.
  await menu().getByRole('link', { name: 'Mon compte' }).click();
  await expectText('Changer mon mot de passe', 'Mot de passe actuel');
  await visit('mon-compte-gestion');

  // The town's contact details, as visitors then read them beside the login form.
  await menu().getByRole('link', { name: 'Commune' }).click();
  await expectText('Coordonnées', 'Site de la commune');
  await page.getByLabel('Téléphone').fill('04 66 71 71 00');
  await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
  await expectText('Coordonnées enregistrées');
  await visit('commune');

  // The day's waiting lists, read by the administrators as by the kitchen (none on that day).
  await menu().getByRole('link', { name: "Listes d'attente" }).click();
  await page.goto(`${base}/gestion/attente?date=2017-01-23`);
  await expectText("Listes d'attente du lun. 23/01/2017", "Aucune liste d'attente");
  await visit('listes-attente');

  // A form without its session's CSRF token is refused, and changes nothing.
  const forged = await page.request.post(`${base}/gestion/familles`,
    { form: { csrf: '00', nom: 'FAUX', email: 'faux@example.fr' }, maxRedirects: 0 });
  check(forged.status() === 403, `a form without its CSRF token is refused (${forged.status()})`);
  check((await forged.text()).includes('Formulaire refusé'), 'the refusal is a French page');

  await page.getByRole('button', { name: 'Déconnexion' }).click();
  await expectText('Connexion', 'Tél : 04 66 71 71 00', 'Documents à télécharger', 'Délibération des tarifs');
  const after = await page.goto(`${base}/gestion/familles`);
  check(after.status() === 401, 'after logout the families need a login again');
});
