// The staff back office walked in headless Chromium: the kitchen's headcount sheet (on screen and
// as printed), the finance office's month (reconciliation, invoices, payments, a CSV export),
// an administrator publishing a document (a refused file first), and a family downloading it,
// then being refused the back office; an auditor runs the log's verification and reads the event
// and login logs; finance sets the SEPA creditor and records a mandate (a mistyped ICS and IBAN
// refused first). axe-core on every page, screenshots 30-49 (e2e/walk.mjs).
// The admin's other pages (families, restaurants, periods) belong to a walk of their own.
//
// Usage: node e2e/backoffice.mjs <base-url> <kitchen-login> <kitchen-password>
//          <finance-login> <finance-password> <admin-login> <admin-password>
//          <family-login> <family-password> <auditor-login> <auditor-password>
// Env: EXPECT, the figures the API gives (JSON: day, restaurant, month, family, invoice and the
// kitchen's counts standard, vegetarian, no_pork, booked, awaiting); SCREENSHOTS; CHROMIUM.

import { startWalk } from './walk.mjs';

const [base, kitchenLogin, kitchenPassword, financeLogin, financePassword, adminLogin,
  adminPassword, familyLogin, familyPassword, auditorLogin, auditorPassword] = process.argv.slice(2);
if (!auditorPassword || !process.env.EXPECT) {
  console.error('usage: EXPECT=<json> node backoffice.mjs <base-url> <kitchen login> <password> '
    + '<finance login> <password> <admin login> <password> <family login> <password> '
    + '<auditor login> <password>');
  process.exit(2);
}
const expect = JSON.parse(process.env.EXPECT);
const walk = await startWalk({ name: 'back office', first: 30, last: 49, failureShot: 'echec-gestion.png' });
const { page, check, expectText, expectNoText, visit, logIn } = walk;

// A small but real PDF, as an administrator would upload it.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n0\n%%EOF\n');
const TITLE = 'Règlement de la restauration scolaire 2016-2017';

async function logOut() {
  await page.getByRole('button', { name: 'Déconnexion' }).click();
  await expectText('Connexion à votre espace');
}

function nav() {
  return page.getByRole('navigation', { name: 'Menu de gestion' });
}

async function cell(label) {
  return (await page.locator(`table td[data-label="${label}"]`).first().innerText()).trim();
}

await walk.finish(async () => {
  const anonymous = await page.goto(`${base}/gestion`);
  check(anonymous.status() === 401, 'the back office without a session answers the login form (401)');

  // The kitchen: its home, then the day's sheet for one restaurant.
  await logIn(kitchenLogin, kitchenPassword, /Espace de gestion – Cuisine/);
  check(page.url() === `${base}/gestion`, 'a kitchen login lands on /gestion');
  await expectText('Vos espaces', 'Effectifs cuisine');
  check(await nav().getByRole('link', { name: 'Effectifs cuisine' }).count() === 1, 'the kitchen sees its sheet in the menu');
  check(await nav().getByRole('link', { name: 'Finances' }).count() === 0, 'the kitchen does not see Finances');
  check(await nav().getByRole('link', { name: 'Documents' }).count() === 0, 'the kitchen does not see Documents');
  await visit('accueil-cuisine');

  await nav().getByRole('link', { name: 'Effectifs cuisine' }).click();
  await expectText('Effectifs cuisine du mer. 11/01/2017');
  await page.fill('#date', expect.day);
  await page.selectOption('#restaurant', { label: expect.restaurant });
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expectText('Effectifs cuisine du lun. 23/01/2017', expect.restaurant, 'Total à préparer');
  check(await cell('Standard') === String(expect.standard), `standard meals: ${expect.standard}`);
  check(await cell('Végétarien') === String(expect.vegetarian), `vegetarian meals: ${expect.vegetarian}`);
  check(await cell('Sans porc') === String(expect.no_pork), `no-pork meals: ${expect.no_pork}`);
  check(await cell('Total à préparer') === String(expect.booked), `meals to cook: ${expect.booked}`);
  check(await cell('En attente de paiement') === String(expect.awaiting), `awaiting payment: ${expect.awaiting}`);
  await visit('effectifs-cuisine');
  const csvLink = await page.getByRole('link', { name: /Télécharger les effectifs/ }).getAttribute('href');
  const csv = await page.request.get(`${base}${csvLink}`);
  check(csv.status() === 200 && csv.headers()['content-type'].startsWith('text/csv'), 'the headcount CSV downloads as text/csv');
  check((await csv.text()).startsWith('\ufeffDate;Service;Réservés;En attente de paiement'),
    'the headcount CSV for French spreadsheets has French headers');

  // Printed: the sheet without the menu, the filters or the links.
  await page.emulateMedia({ media: 'print' });
  check(!(await page.locator('header.site').isVisible()), 'printing hides the menu');
  check(!(await page.locator('form.filters').isVisible()), 'printing hides the filters');
  check(await page.locator('table').first().isVisible(), 'printing keeps the sheet');
  await visit('effectifs-impression');
  await page.emulateMedia({ media: 'screen' });

  // The roll call: a name per place, as many as the sheet counts.
  await page.getByRole('link', { name: `Liste d'appel de ${expect.restaurant}` }).click();
  await expectText(`Liste d'appel – ${expect.restaurant} – lun. 23/01/2017`, 'Nom', 'Prénom', 'Menu');
  const names = await page.locator('table.roll-call tbody tr').count();
  check(names === expect.booked + expect.awaiting,
    `the roll call names ${names} children, the sheet counts ${expect.booked} + ${expect.awaiting}`);
  const booked = await page.locator('table.roll-call tbody tr', { hasText: 'Réservé' }).count();
  check(booked === expect.booked, `booked on the roll call: ${booked}, on the sheet: ${expect.booked}`);
  await visit('liste-appel');
  const rollCsv = await page.getByRole('link', { name: /CSV pour tableur français/ }).getAttribute('href');
  const rollFile = await page.request.get(`${base}${rollCsv}`);
  check((await rollFile.text()).startsWith('\ufeffDate;Restaurant;Service;Nom;Prénom;Menu'),
    'the roll call CSV for French spreadsheets has French headers');
  const refused = await page.goto(`${base}/gestion/finances`);
  check(refused.status() === 403, 'the kitchen is refused the finance pages (403)');
  await expectText('Accès refusé');
  await page.goto(`${base}/gestion`);
  await logOut();

  // The finance office: the month's summary, its invoices, its payments, an export.
  await logIn(financeLogin, financePassword, /Espace de gestion – Finances/);
  check(await nav().getByRole('link', { name: 'Effectifs cuisine' }).count() === 0, 'finance does not see the kitchen sheet');
  await visit('accueil-finances');
  await nav().getByRole('link', { name: 'Finances' }).click();
  await expectText('Finances – janvier 2017', 'Le mois est équilibré', expect.restaurant, 'Exports de janvier 2017');
  await visit('finances-synthese');
  const exportLink = await page.getByRole('link', { name: 'CSV pour tableur français Factures', exact: true }).getAttribute('href');
  const exported = await page.request.get(`${base}${exportLink}`);
  check(exported.status() === 200 && exported.headers()['content-type'].startsWith('text/csv'), 'the month\'s invoices export downloads as text/csv');
  check((await exported.text()).includes(expect.invoice), 'the export lists the invoice');

  const financePages = page.getByRole('navigation', { name: 'Pages des finances' });
  await financePages.getByRole('link', { name: 'Factures' }).click();
  await expectText('Factures – janvier 2017');
  await page.fill('#recherche', expect.family.toLowerCase());
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expectText('1 pièce(s)', expect.invoice, expect.family);
  await visit('finances-factures');
  await page.fill('#recherche', 'personne');
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expectText('0 pièce(s)');
  await expectNoText(expect.invoice);

  await financePages.getByRole('link', { name: 'Paiements' }).click();
  await expectText('Paiements – janvier 2017');
  await page.selectOption('#statut', 'succeeded');
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expectText('✓ Réussi', expect.family);
  await visit('finances-paiements');
  await logOut();

  // An administrator publishes a document; a file that is not a PDF is refused first.
  await logIn(adminLogin, adminPassword, /Espace de gestion – Administration/);
  check(await nav().getByRole('link', { name: 'Documents' }).count() === 1, 'the admin sees Documents');
  check(await nav().getByRole('link', { name: 'Effectifs cuisine' }).count() === 1, 'the admin sees the kitchen sheet');
  check(await nav().getByRole('link', { name: 'Finances' }).count() === 0, 'the admin does not see Finances');
  await visit('accueil-administration');
  await nav().getByRole('link', { name: 'Documents' }).click();
  await expectText('Documents des familles', 'Publier un document', 'Délibération des tarifs');
  await page.fill('#titre', TITLE);
  await page.selectOption('#nature', 'rules');
  await page.setInputFiles('#fichier', { name: 'menu.txt', mimeType: 'text/plain', buffer: Buffer.from('Lundi : frites') });
  await page.getByRole('button', { name: 'Publier' }).click();
  await expectText('n\'a pas été publié', 'Le fichier n\'est pas un PDF');
  check(await page.inputValue('#titre') === TITLE, 'the refused form keeps the title');
  check(await page.getAttribute('#fichier', 'aria-describedby') === 'fichier-erreur', 'the error is tied to the file field');
  await visit('documents-refus');
  await page.setInputFiles('#fichier', { name: 'Règlement cantine.pdf', mimeType: 'application/pdf', buffer: PDF });
  await page.getByRole('button', { name: 'Publier' }).click();
  await expectText('Document publié', TITLE, 'Visible des familles');
  await visit('documents');
  await logOut();

  // The auditor: the log's verification as a job, then the event log and the login log.
  await logIn(auditorLogin, auditorPassword, /Espace de gestion – Contrôle/);
  await nav().getByRole('link', { name: 'Contrôle' }).click();
  await expectText('Vérification du journal', 'Aucune vérification');
  await page.getByRole('button', { name: 'Lancer une vérification' }).click();
  for (let i = 0; i < 120 && !(await page.getByRole('button', { name: 'Lancer une vérification' }).count()); i++) {
    await page.waitForTimeout(250);
    await page.goto(`${base}/gestion/audit`);
  }
  await expectText('Journal intact', 'Événements vérifiés');
  await visit('controle');
  await page.getByRole('link', { name: 'Journal des événements' }).click();
  await page.selectOption('#type', 'ReservationPaid');
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expectText('ReservationPaid', 'Contenu, métadonnées, empreinte');
  await page.locator('details summary').first().click();
  await expectText('Empreinte de chaînage', 'actor_role');
  await visit('journal-evenements');
  await page.getByRole('link', { name: '← Contrôle' }).click();
  await page.getByRole('link', { name: 'Journal des connexions' }).click();
  await expectText('Journal des connexions', auditorLogin, '✓ Connecté');
  await visit('journal-connexions');
  await logOut();

  // The family finds it from its home page and downloads exactly that file.
  await logIn(familyLogin, familyPassword, /Mon compte famille/);
  await page.getByRole('link', { name: /Documents/ }).click();
  await expectText(TITLE, 'Règlement de la restauration scolaire');
  await visit('documents-famille');
  const href = await page.getByRole('link', { name: new RegExp(TITLE) }).getAttribute('href');
  const download = await page.request.get(`${base}${href}`);
  check(download.status() === 200 && download.headers()['content-type'] === 'application/pdf', 'the document downloads as a PDF');
  check(download.headers()['content-disposition'].startsWith('attachment'), 'the document comes as an attachment');
  check(Buffer.compare(await download.body(), PDF) === 0, 'the family downloads the very bytes uploaded');
  const denied = await page.goto(`${base}/gestion`);
  check(denied.status() === 403, 'a family is refused the back office (403)');
  await expectText('Accès refusé', 'réservé au personnel');
  await visit('gestion-refusee');
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Déconnexion' }).click();

  // Finance again, for SEPA direct debit: the creditor's ICS (a mistyped one refused, said
  // next to its form), a family's signed mandate, the month's batch (nothing to collect in a
  // prepaid month, said in French).
  await logIn(financeLogin, financePassword, /Espace de gestion – Finances/);
  await page.goto(`${base}/gestion/finances`);
  await page.getByRole('navigation', { name: 'Pages des finances' }).getByRole('link', { name: 'Prélèvements SEPA' }).click();
  await expectText('Prélèvements SEPA', 'Aucun lot pour ce mois', 'Aucun mandat enregistré');
  await page.fill('#ics', 'FR72ZZZ123457');
  await page.fill('#iban-creancier', 'FR76 3000 1007 9412 3456 7890 185');
  await page.fill('#bic-creancier', 'BDFEFRPPCCT');
  await page.getByRole('button', { name: 'Enregistrer le créancier' }).click();
  await expectText('L\'identifiant créancier SEPA (ICS) est incorrect', 'Rien n\'a été enregistré');
  await visit('prelevements-refus');
  await page.fill('#ics', 'FR72ZZZ123456');
  await page.fill('#iban-creancier', 'FR76 3000 1007 9412 3456 7890 185');
  await page.fill('#bic-creancier', 'BDFEFRPPCCT');
  await page.getByRole('button', { name: 'Enregistrer le créancier' }).click();
  await expectText('Coordonnées du créancier enregistrées', 'FR72ZZZ123456');
  await page.selectOption('#famille', { label: expect.family });
  await page.fill('#titulaire', 'Mme Dupont');
  await page.fill('#iban', 'FR76 3000 6000 0112 3456 7890 188');
  await page.fill('#bic', 'AGRIFRPP812');
  await page.fill('#rum', 'CANTINE-DUPONT-001');
  await page.fill('#signe', '2017-01-02');
  await page.getByRole('button', { name: 'Enregistrer le mandat' }).click();
  await expectText('L\'IBAN est incorrect : sa clé de contrôle ne correspond pas');
  await page.fill('#iban', 'FR76 3000 6000 0112 3456 7890 189');
  await page.getByRole('button', { name: 'Enregistrer le mandat' }).click();
  await expectText('Mandat enregistré', 'CANTINE-DUPONT-001', 'FR7630006000011234567890189');
  await page.getByRole('button', { name: /Préparer le lot/ }).click();
  await expectText('Aucune facture mensuelle de ce mois n\'est à prélever');
  await visit('prelevements');

  // Refunds: the Martin family's 10,00 € of credit paid back by transfer (more than its credit
  // is refused first).
  await page.goto(`${base}/gestion/finances`);
  await page.getByRole('navigation', { name: 'Pages des finances' }).getByRole('link', { name: 'Remboursements d\'avoirs' }).click();
  await expectText('Remboursements d\'avoirs', 'MARTIN – avoir de 10,00 €');
  const martin = page.locator('section', { hasText: 'MARTIN – avoir de' });
  await martin.getByLabel('Montant remboursé (€)').fill('12,00');
  await martin.getByLabel('Référence du virement').fill('VIR-2017-0001');
  await martin.getByRole('button', { name: /Enregistrer le remboursement/ }).click();
  await expectText('Le montant dépasse l\'avoir de la famille', 'Rien n\'a été enregistré');
  await visit('remboursements-refus');
  const again = page.locator('section', { hasText: 'MARTIN – avoir de' });
  await again.getByLabel('Montant remboursé (€)').fill('10,00');
  await again.getByLabel('Référence du virement').fill('VIR-2017-0001');
  await again.getByRole('button', { name: /Enregistrer le remboursement/ }).click();
  await expectText('Remboursement de 10,00 € enregistré');
  await expectNoText('MARTIN – avoir de');
  await visit('remboursements');
});
