// The month's close walked in headless Chromium (issue 16): a billed-later family pays its
// monthly invoice online from "Mes factures" (through the payment simulator), then finance finds
// only the other family among the debtors, records its cheque, and the debtors' list is empty.
// axe-core on every page, screenshots 70-79 (e2e/walk.mjs).
//
// Usage: node e2e/month_close.mjs <base-url> <payer-login> <payer-password> <finance-login>
//          <finance-password>
// Env: EXPECT (JSON: payer and debtor, the families' names; payer_due and debtor_due, their
// invoices' amounts as the portal writes them; payer_invoice, the paying family's invoice number);
// SCREENSHOTS; CHROMIUM.

import { startWalk } from './walk.mjs';

const [base, payerLogin, payerPassword, financeLogin, financePassword] = process.argv.slice(2);
if (!financePassword || !process.env.EXPECT) {
  console.error('usage: EXPECT=<json> node month_close.mjs <base-url> <family login> <password> '
    + '<finance login> <password>');
  process.exit(2);
}
const expect = JSON.parse(process.env.EXPECT);
const walk = await startWalk({ name: 'month close', first: 70, last: 79, failureShot: 'echec-mois.png' });
const { page, check, expectText, expectNoText, visit, logIn } = walk;

async function logOut() {
  await page.getByRole('button', { name: 'Déconnexion' }).click();
  await expectText('Connexion à votre espace');
}

await walk.finish(async () => {
  // The family pays its monthly invoice online.
  await logIn(payerLogin, payerPassword, /Mon compte famille/);
  await page.goto(`${base}/factures`);
  await expectText('Mes factures', expect.payer_invoice, `non payée, reste à payer ${expect.payer_due}`);
  await visit('facture-mensuelle-a-payer');
  await page.getByRole('button', { name: new RegExp(`Payer ${expect.payer_due}`) }).first().click();
  await expectText('Paiement simulé', expect.payer_due);
  await page.getByRole('button', { name: 'Payer' }).click();
  await expectText('Paiement accepté');
  await page.goto(`${base}/factures`);
  await expectText('Mes factures', expect.payer_invoice, 'payée');
  await expectNoText(`reste à payer ${expect.payer_due}`);
  check(await page.getByRole('button', { name: /^Payer/ }).count() === 0, 'nothing is left to pay');
  await visit('facture-mensuelle-payee');
  await logOut();

  // Finance: only the other family still owes; its cheque is recorded; nobody owes any more.
  await logIn(financeLogin, financePassword, /Espace de gestion – Finances/);
  await page.goto(`${base}/gestion/finances/debiteurs`);
  await expectText('1 famille doit', `${expect.debtor} – ${expect.debtor_due} à régler`);
  await expectNoText(`${expect.payer} – `);
  await visit('debiteurs');
  const debtor = page.locator('section', { hasText: `${expect.debtor} – ` });
  await debtor.getByLabel('Moyen de paiement').selectOption('cheque');
  await debtor.getByLabel('N° de chèque et banque, ou référence du virement').fill('Chèque 0001234, Crédit Agricole');
  await debtor.getByRole('button', { name: new RegExp(`Enregistrer l'encaissement de ${expect.debtor}`) }).click();
  await expectText(/Encaissement enregistré : reçu n° RC-\d{4}-\d{6}/, 'Aucune facture mensuelle ne reste à régler');
  await visit('cheque-enregistre');
});
