// The first guide (Terre de Camargue, 2016-2017) walked in headless Chromium through the family
// portal: log in, choose the child, the restaurant and its period, tick 23, 24, 27 and 31
// January, check the estimate (4 × 4,15 € = 16,60 €), confirm, open the cart, pay on the
// payment simulator, come back to the portal and see the reservation paid, then the history and
// the invoices. axe-core runs on every page (any serious or critical violation fails), and every
// step is saved as a screenshot at desktop and phone width.
//
// Usage: node e2e/first_guide.mjs <base-url> <login> <password>
// Env: SCREENSHOTS (folder, default docs/screenshots), CHROMIUM (default /usr/bin/chromium),
// DEADLINE (the "pay before" time expected, e.g. 15:38 when the server's clock stands still).

import { startWalk } from './walk.mjs';

const [base, login, password] = process.argv.slice(2);
if (!base || !login || !password) {
  console.error('usage: node first_guide.mjs <base-url> <login> <password>');
  process.exit(2);
}
const deadline = process.env.DEADLINE ?? null;

const walk = await startWalk({ name: 'first guide', first: 1, last: 19, failureShot: 'echec.png' });
const { page, context, check, expectText, visit, boxesFit, text } = walk;

await walk.finish(async () => {
  // Step 1: the portal asks to log in; typed with the keyboard only.
  const first = await page.goto(`${base}/`);
  check(first.status() === 401, 'the portal without a session answers the login form (401)');
  await expectText('Connexion à votre espace', 'Identifiant', 'Mot de passe');
  await visit('connexion');
  await page.focus('#identifiant');
  await page.keyboard.type(login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  // The login form is served at / too: wait for the next page's heading, not the address.
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /Mon compte famille/ }).waitFor();
  await expectText('Mon compte famille', 'Quelle action souhaitez-vous effectuer ?', 'Hervé');
  const cookies = await context.cookies(base);
  const session = cookies.find(c => c.name === 'cantine_session');
  check(session && session.httpOnly && session.sameSite === 'Lax' && session.path === '/',
    'the session cookie is HttpOnly, SameSite=Lax, path /');
  await visit('accueil');

  // Steps 2-3: new reservation, the child.
  await page.getByRole('link', { name: '+ Nouvelle réservation' }).first().click();
  await expectText("Sélectionnez l'enfant à inscrire");
  await visit('choix-enfant');
  await page.getByRole('link', { name: /DUPONT Hervé/ }).click();
  await expectText("Création d'une réservation pour Hervé DUPONT", 'Restaurant Scolaire Charles Gros',
    'Restaurant Scolaire Le Repausset');

  // Steps 4-5: the restaurant, its period and its rules in plain words.
  await page.getByRole('link', { name: 'Restaurant Scolaire Le Repausset' }).click();
  await page.getByRole('link', { name: /Restauration Le Repausset 2016-2017/ }).click();
  await expectText('Votre sélection', 'Du 01/09/2016 au 04/07/2017', 'lundi, mardi, jeudi, vendredi',
    'REPAS (12:00 – 13:00)', 'Vous devez réserver avant le mardi de la semaine précédente, 09:30', '4,15 €');
  await visit('etablissement-periode');

  // Step 6: the month calendar, with its legend; tick the guide's four days.
  await page.getByRole('link', { name: 'Continuer' }).click();
  await expectText('janvier 2017', 'Légende', 'Réservé', 'En attente de paiement', 'Libre', 'Complet',
    'Fermé', 'Délai dépassé', '+ cette semaine', '+ tous les lundis', "+ tous les jours de l'année");
  check(await page.locator('ul.days li.status-past_cutoff').count() > 0, 'days past the cut-off are marked');
  check(await page.locator('ul.days li.status-closed').count() > 0, 'closed days are marked');
  for (const day of ['2017-01-23', '2017-01-24', '2017-01-27', '2017-01-31']) {
    const box = page.locator(`#jour-${day}`);
    // By keyboard: focus the box and press the space bar.
    await box.focus();
    await page.keyboard.press('Space');
    check(await box.isChecked(), `${day} is ticked with the keyboard`);
  }
  // The ticks go along to another month and back, until "Valider le planning".
  await page.getByRole('button', { name: /février 2017/ }).click();
  await expectText('février 2017', "4 jours cochés dans d'autres mois");
  await page.getByRole('button', { name: /janvier 2017/ }).click();
  await expectText('janvier 2017');
  for (const day of ['2017-01-23', '2017-01-24', '2017-01-27', '2017-01-31']) {
    check(await page.locator(`#jour-${day}`).isChecked(), `${day} is still ticked after February`);
  }
  await visit('calendrier');
  const calendarAddress = new URL(page.url());

  // Steps 7-8: validate, then the recap with the estimate.
  await page.getByRole('button', { name: 'Valider le planning' }).click();
  await expectText('Récapitulatif de votre demande', 'En attente de confirmation',
    'lun. 23/01/2017', 'mar. 24/01/2017', 'ven. 27/01/2017', 'mar. 31/01/2017',
    '4 × 4,15 € = 16,60 €', 'Estimation de votre facture');
  await visit('recapitulatif');
  await boxesFit('the recap');

  // Step 9: confirm: awaiting payment, pay before 15:38.
  await page.getByRole('button', { name: 'Confirmer la réservation' }).click();
  await expectText('Demande de réservation enregistrée', 'En attente de paiement',
    'en attente de traitement', '16,60 €', 'automatiquement annulée',
    deadline ? `avant ${deadline}` : /avant \d{2}:\d{2}/);
  const number = (await text()).match(/N° de la réservation (\d{5})/)?.[1];
  check(Boolean(number), `the reservation has a 5-digit number (${number})`);
  await visit('confirmation');

  // Step 10: the cart, its deadline, then the payment.
  await page.getByRole('link', { name: 'Accéder à mon panier' }).click();
  await expectText('Mon panier', `n° ${number}`, 'Hervé DUPONT', '16,60 €', deadline ?? /\d{2}:\d{2}/,
    deadline ? 'il reste 1 h 00 min' : /il reste (\d+ h )?\d+ min/, 'Montant total de votre paiement');
  await visit('panier');

  // A form without its session's CSRF token is refused, and changes nothing.
  const forged = await page.request.post(`${base}/panier/paiement`, { form: { csrf: '00' }, maxRedirects: 0 });
  check(forged.status() === 403, `a form without its CSRF token is refused (${forged.status()})`);
  check((await forged.text()).includes('Formulaire refusé'), 'the refusal is a French page');

  await page.getByRole('button', { name: 'Accéder au paiement' }).click();
  await expectText('Paiement simulé', '16,60 €');
  await visit('paiement-simule');
  await page.getByRole('button', { name: 'Payer' }).click();
  await expectText('Paiement accepté');
  await page.getByRole('link', { name: 'Retour au portail famille' }).click();
  await expectText('Paiement accepté', 'vos réservations sont validées', number, 'Payée');
  await expectText(/Facture \d{4}-\d{6}/);
  await visit('paiement-accepte');

  // History: 5 a page, searchable, states ✓ ✗ ?.
  await page.getByRole('link', { name: 'Mes réservations' }).click();
  await expectText('Historique des réservations', number, 'Restaurant Scolaire Le Repausset',
    'Du 23/01/2017 au 31/01/2017', '✓ Payée', 'Afficher 5 éléments / page');
  await page.getByLabel('Rechercher (n° de réservation ou nom de l\'enfant)').fill(number);
  await page.getByRole('button', { name: 'Rechercher' }).click();
  await expectText(`(de 1 à 1 sur 1 éléments)`);
  await visit('historique');

  // The calendar now shows the days booked.
  await page.goto(`${base}/reservations/${await page.locator(`a:has-text("la réservation n° ${number}")`).first().getAttribute('href').then(h => h.split('/').pop())}`);
  await expectText(`Réservation n° ${number}`, 'réservé');

  // The calendar now shows the four days booked; a bulk choice books a whole week at once.
  await page.goto(`${base}/reservation/nouvelle`);
  await page.getByRole('link', { name: /DUPONT Hervé/ }).click();
  await page.getByRole('link', { name: 'Restaurant Scolaire Le Repausset' }).click();
  await page.getByRole('link', { name: /Restauration Le Repausset 2016-2017/ }).click();
  await page.getByRole('link', { name: 'Continuer' }).click();
  check(await page.locator('ul.days li.status-booked').count() === 4, 'the calendar shows the 4 paid days as booked');
  await page.getByRole('button', { name: /février 2017/ }).click();
  await expectText('février 2017');
  await page.getByRole('button', { name: /\+ cette semaine \(semaine du lun\. 06\/02\/2017\)/ }).click();
  await expectText('Récapitulatif de votre demande', 'lun. 06/02/2017', 'ven. 10/02/2017',
    '4 × 4,15 € = 16,60 €');
  await visit('choix-groupe');
  // The browser's Back before confirming: the calendar says the days are only asked for, and
  // leads back to the request to confirm or drop it.
  await page.goBack();
  await expectText('février 2017', 'En attente de confirmation', "n'est pas encore confirmée",
    'Confirmer ou abandonner la demande n° 00002');
  check(await page.locator('ul.days li.status-requested').count() === 4, 'the week asked for shows 4 days to confirm');
  await visit('demande-non-confirmee');
  await page.getByRole('link', { name: 'Confirmer ou abandonner la demande n° 00002' }).click();
  await expectText('Récapitulatif de votre demande');
  // Abandoning asks first (a page, no script): nothing changes before "Oui".
  await page.getByRole('link', { name: 'Abandonner cette demande' }).click();
  await expectText('Voulez-vous vraiment abandonner cette demande ?', 'Non, garder la demande');
  await visit('annulation-question');
  await page.getByRole('button', { name: 'Oui, abandonner la demande' }).click();
  await expectText('✗ Annulée');

  // Invoices.
  await page.getByRole('link', { name: 'Mes factures' }).click();
  await expectText('Factures & paiements', /\d{4}-\d{6}/, `Réservation ${number}`, '16,60 €');
  await visit('factures');

  // "Mon compte": the quotient familial, and "Modifier les informations de la famille".
  await page.getByRole('link', { name: 'Mon compte' }).click();
  await expectText('Quotient familial', 'Informations de la famille');
  await page.getByText('Modifier les informations de la famille').click();
  await page.getByLabel('Adresse postale').fill('26 Quai des Croisades\n30220 AIGUES-MORTES');
  await page.getByLabel('Téléphone', { exact: true }).fill('04 66 71 71 55');
  await page.getByRole('button', { name: 'Enregistrer les informations de la famille' }).click();
  await expectText('Les informations de la famille sont enregistrées.', '26 Quai des Croisades', '04 66 71 71 55');
  await visit('compte');

  // An address that does not exist: a French page with the way back, not JSON.
  const missing = await page.goto(`${base}/nexistepas`);
  check(missing.status() === 404, 'an unknown address answers 404');
  await expectText('Page introuvable', "Retour à l'accueil du portail");
  await visit('page-introuvable');
  await page.getByRole('link', { name: "Retour à l'accueil du portail" }).click();
  await expectText('Mon compte famille');

  // The waiting list's page of a day (the link a full day of the calendar carries).
  const child = calendarAddress.searchParams.get('enfant');
  const period = calendarAddress.searchParams.get('periode');
  check(Boolean(child && period), `the calendar's address names the child and the period: ${calendarAddress}`);
  await page.goto(`${base}/liste-attente?enfant=${child}&periode=${period}&jour=2017-02-06`);
  await expectText("Liste d'attente", "pas en liste d'attente", "en liste d'attente");
  await visit('liste-attente');

  // Logout: the session ends, the portal asks to log in again.
  await page.getByRole('button', { name: 'Déconnexion' }).click();
  await expectText('Connexion à votre espace');
  const after = await page.goto(`${base}/panier`);
  check(after.status() === 401, 'after logout the cart needs a login again');
});
