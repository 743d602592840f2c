// The second guide (Carcassonne: "réservations ou annulations des repas") walked in headless
// Chromium through the family portal, on the demo of the first guide's afternoon (11 January
// 2017, 14:38): Léa's billed-later calendar with a bulk choice ("+ tous les jeudis"), the recap
// with the days refused and why, the confirmation; then, from the same calendar, two booked
// days cancelled and one added, the recap of both, the result's counts; then one of Hervé's paid
// days (booked and paid beforehand by the test) cancelled for a credit note, the printable
// invoice (also as printed) and the ledger. axe-core runs on every page (any serious or critical
// violation fails), and each step is saved at desktop and phone width (20 to 29).
//
// Usage: node e2e/second_guide.mjs <base-url> <login> <password>
// Env: SCREENSHOTS (folder, default docs/screenshots), CHROMIUM (default /usr/bin/chromium).

import { startWalk } from './walk.mjs';

const [base, login, password] = process.argv.slice(2);
if (!base || !login || !password) {
  console.error('usage: node second_guide.mjs <base-url> <login> <password>');
  process.exit(2);
}

const walk = await startWalk({ name: 'second guide', first: 20, last: 29, failureShot: 'echec-second.png' });
const { page, check, expectText, expectNoText, audit, visit, text } = walk;

/// From the home page to a child's calendar: child, restaurant, period, "Continuer".
async function openCalendar(child, restaurant, period) {
  await page.getByRole('link', { name: 'Nouvelle réservation' }).first().click();
  await expectText("Sélectionnez l'enfant à inscrire");
  await page.getByRole('link', { name: child }).click();
  await page.getByRole('link', { name: restaurant }).click();
  await page.getByRole('link', { name: period }).click();
  await page.getByRole('link', { name: 'Continuer' }).click();
  await expectText('janvier 2017', 'Légende');
}

/// Ticks a box with the keyboard, as a parent without a mouse would.
async function tick(selector, what) {
  const box = page.locator(selector);
  await box.focus();
  await page.keyboard.press('Space');
  check(await box.isChecked(), `${what} is ticked with the keyboard`);
}

await walk.finish(async () => {
  // Log in (keyboard only); the home page.
  await page.goto(`${base}/`);
  await page.focus('#identifiant');
  await page.keyboard.type(login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /Mon compte famille/ }).waitFor();
  await expectText('Quelle action souhaitez-vous effectuer ?', 'Léa');
  await audit('accueil');

  // Step 5 of the second guide: Léa's month calendar in the billed-later restaurant.
  await page.getByRole('link', { name: 'Nouvelle réservation' }).first().click();
  await page.getByRole('link', { name: /DUPONT Léa/ }).click();
  await page.getByRole('link', { name: /Jean Jaurès/ }).click();
  await page.getByRole('link', { name: /Inscription cantine 2016-2017/ }).click();
  await expectText('Facturé en fin de mois', '4,97 €', 'Pour annuler',
    "Vous pouvez annuler jusqu'à 2 jours avant le repas, 10:00");
  await audit('etablissement-periode');
  await page.getByRole('link', { name: 'Continuer' }).click();
  await expectText('janvier 2017', 'Légende', 'Réservé', 'Libre', 'Complet', 'Fermé', 'Délai dépassé',
    '+ cette semaine', '+ tous les jeudis', "+ tous les jours de l'année", 'Pour annuler un repas réservé');
  check(await page.locator('ul.days li.status-past_cutoff').count() > 0, 'days past the cut-off are marked');
  check(await page.locator('input[name="annuler"]').count() === 0, 'nothing booked yet: nothing to cancel');
  await visit('calendrier');

  // A bulk choice: every Thursday from today. Billed later, the recap of actions lists the days
  // to book first, then what could not be booked and why, one line a reason.
  await page.getByRole('button', { name: '+ tous les jeudis' }).click();
  await expectText('Récapitulatif de vos modifications', 'Réservation ajoutée : 19/01/2017 - Prix : 4,97 €',
    'Réservation ajoutée : 26/01/2017 - Prix : 4,97 €',
    'Non réservé : 12/01/2017 - Date limite de réservation dépassée', /\d+ × 4,97 € = \d+,\d\d €/,
    'Confirmer les modifications');
  await expectNoText('paiement en ligne');
  await visit('choix-groupe');

  // Confirmed: billed later, nothing to pay online; the guide's own recap and its counts.
  await page.getByRole('button', { name: 'Confirmer les modifications' }).click();
  await expectText('Récapitulatif de vos actions', 'Réservation ajoutée : 19/01/2017 - Prix : 4,97 €',
    /Nombre de réservations effectuées avec succès : \d+/, 'Nombre de réservations annulées : 0', 'Continuer');
  await visit('reservation-confirmee');

  // Back to the calendar: cancel 19 and 26 January, add Monday 16th.
  await openCalendar(/DUPONT Léa/, /Jean Jaurès/, /Inscription cantine 2016-2017/);
  await expectText('cocher pour annuler');
  check(await page.locator('ul.days li.status-booked').count() === 2, 'the two Thursdays left in January (19th, 26th) are shown booked');
  await tick('#annuler-2017-01-19', 'booked 19 January (to cancel)');
  await tick('#annuler-2017-01-26', 'booked 26 January (to cancel)');
  await tick('#jour-2017-01-16', 'free 16 January (to add)');
  const label = await page.locator('label[for="annuler-2017-01-19"]').innerText();
  check(/19\/01\/2017/.test(label) && /Réservé/.test(label) && /annuler/.test(label),
    `the box to cancel says its day, its state and what it does (${label.replace(/\s+/g, ' ')})`);
  await visit('calendrier-annulation');

  // The recap of both kinds of change; nothing is cancelled yet.
  await page.getByRole('button', { name: 'Valider le planning' }).click();
  await expectText('Récapitulatif de vos modifications', 'Réservation ajoutée : 16/01/2017 - Prix : 4,97 €',
    '1 × 4,97 € = 4,97 €', 'Annulation : jeu. 19/01/2017 - Prix : 4,97 €',
    'Annulation : jeu. 26/01/2017 - Prix : 4,97 €', 'Montant des repas annulés : 9,94 €',
    'ne vous seront pas facturés');
  await visit('recapitulatif-actions');

  // Confirmed: the result day by day, with the guide's counts.
  await page.getByRole('button', { name: 'Confirmer les modifications' }).click();
  await expectText('Récapitulatif de vos actions', 'Réservation ajoutée : 16/01/2017 - Prix : 4,97 €',
    'Réservation annulée : 19/01/2017 - Prix : 4,97 €', 'Réservation annulée : 26/01/2017 - Prix : 4,97 €',
    'Nombre de réservations effectuées avec succès : 1', 'Nombre de réservations annulées : 2');
  await visit('bilan');
  await page.getByRole('link', { name: 'Continuer' }).click();
  await expectText('janvier 2017');
  check(await page.locator('#jour-2017-01-19').count() === 1, '19 January is free again');
  check(await page.locator('#annuler-2017-01-16').count() === 1, '16 January is booked (and can be cancelled)');
  await audit('calendrier-apres');

  // Hervé's paid days: cancelling one in time gives a credit note.
  await openCalendar(/DUPONT Hervé/, 'Restaurant Scolaire Le Repausset', /Restauration Le Repausset 2016-2017/);
  await tick('#annuler-2017-01-31', 'paid 31 January (to cancel)');
  await page.getByRole('button', { name: 'Valider le planning' }).click();
  await expectText('Annulation : mar. 31/01/2017 - Prix : 4,15 €', 'un avoir de 4,15 €');
  await audit('recapitulatif-avoir');
  await page.getByRole('button', { name: 'Confirmer les modifications' }).click();
  await expectText('Nombre de réservations annulées : 1', 'Avoir n° AV-2017-000001', '4,15 € crédités');
  await audit('bilan-avoir');
  await page.getByRole('link', { name: /Voir l'avoir AV-2017-000001/ }).click();
  await expectText('Avoir n° AV-2017-000001', 'Total crédité', '4,15 €', '31/01/2017', 'DUPONT');
  await visit('avoir');

  // The invoice of the payment, printable.
  await page.getByRole('link', { name: 'Retour à mes factures' }).click();
  await expectText('Factures & paiements', 'Facture n° 2017-000001', 'Avoir n° AV-2017-000001');
  await audit('factures');
  await page.getByRole('link', { name: 'Facture n° 2017-000001' }).click();
  await expectText('Facture n° 2017-000001', 'Communauté de communes Terre de Camargue', 'DUPONT',
    'Hervé DUPONT', '23/01/2017, 24/01/2017, 27/01/2017, 31/01/2017', '4,15 €', '16,60 €',
    'Payée : 16,60 € par paiement en ligne', 'Imprimer');
  await visit('facture');
  await page.emulateMedia({ media: 'print' });
  check(!(await page.locator('header.site').isVisible()), 'printed, the invoice has no navigation');
  check(!(await page.locator('p.no-print').first().isVisible()), 'printed, the invoice has no links');
  check(await page.locator('table.lines').isVisible(), 'printed, the invoice keeps its lines');
  await visit('facture-impression');
  await page.emulateMedia({ media: 'screen' });

  // The ledger: invoice, payment, credit note, the balance and the credit left.
  await page.getByRole('link', { name: 'Relevé de compte' }).first().click();
  await expectText('Relevé de compte', 'Solde du compte', 'Avoir disponible', 'Facture', 'Paiement',
    'Avoir', '-16,60 €', '16,60 €', '4,15 € (déduit de votre prochain paiement)', '4,15 € (en votre faveur)');
  await visit('releve');
});
