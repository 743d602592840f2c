//! The access matrix: every route of the route table × every kind of caller (anonymous, a family
//! with its own ids, the same family with another family's ids, admin, kitchen, finance,
//! auditor) → the expected status, sent for real through the router.
//!
//! It also proves:
//! - no leak: no answer to a family, an anonymous caller or a kitchen/finance/auditor user
//!   carries another family's ids or children's names;
//! - a refused request changes nothing (the stored data is the same before and after);
//! - every route has a row here: a route added to `web/routes.rs` (or documented in the OpenAPI
//!   document) without a row in [`expected`] fails the test, as does a row that contradicts the
//!   route's declared access.
//!
//! See the generated matrix: `cargo test access_matrix -- --nocapture` (also written to
//! `target/tmp/access-matrix.md`).

use std::collections::{BTreeSet, HashMap};

use cantine::app::accounts::credentials::hash_password;
use cantine::db;
use cantine::domain::account::Role;
use cantine::web::access::Access;
use cantine::web::pages::session::{csrf_token_for_session, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use cantine::web::routes;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Who {
    Anonymous,
    /// The Dupont family, with its own ids.
    FamilyOwn,
    /// The Dupont family, with the Martin family's ids.
    FamilyOther,
    Admin,
    Kitchen,
    Finance,
    Auditor,
    /// The town's front desk.
    Desk,
}

const WHO: [Who; 8] = [
    Who::Anonymous,
    Who::FamilyOwn,
    Who::FamilyOther,
    Who::Admin,
    Who::Kitchen,
    Who::Finance,
    Who::Auditor,
    Who::Desk,
];

const HEADER: &str = "| route | access | anonymous | family, own ids | family, other's ids | admin | kitchen | finance | auditor | desk |";

/// Routes that are pages for a browser, not API routes of the OpenAPI document.
const NOT_IN_OPENAPI: &[(&str, &str)] = &[
    ("GET", "/mot-de-passe"),
    ("POST", "/mot-de-passe"),
    ("GET", "/api/v1/payments/{id}/checkout"),
    ("POST", "/api/v1/payments/{id}/checkout"),
    // The family portal (`src/web/portal`)
    ("GET", "/portail.css"),
    ("GET", "/connexion"),
    ("POST", "/connexion"),
    ("GET", "/connexion/mot-de-passe"),
    ("POST", "/connexion/mot-de-passe"),
    ("POST", "/deconnexion"),
    ("GET", "/"),
    ("GET", "/reservation/nouvelle"),
    ("GET", "/reservation/calendrier"),
    ("POST", "/reservation/calendrier"),
    ("GET", "/reservations/{id}"),
    ("POST", "/reservations/{id}/confirmer"),
    ("GET", "/reservations/{id}/annuler"),
    ("POST", "/reservations/{id}/annuler"),
    ("GET", "/panier"),
    ("POST", "/panier/paiement"),
    ("GET", "/paiements/{id}"),
    ("GET", "/historique"),
    ("GET", "/factures"),
    ("GET", "/compte"),
    ("POST", "/compte/mot-de-passe"),
    ("POST", "/compte/identifiant"),
    ("POST", "/compte/famille"),
    ("GET", "/reservation/recapitulatif"),
    ("POST", "/reservation/recapitulatif"),
    ("GET", "/reservation/bilan"),
    ("GET", "/factures/{id}"),
    ("POST", "/factures/{id}/paiement"),
    ("GET", "/compte/releve"),
    // The staff back office (`src/web/backoffice`)
    ("GET", "/gestion"),
    ("POST", "/gestion/deconnexion"),
    ("GET", "/gestion/cuisine"),
    ("GET", "/gestion/attente"),
    ("POST", "/compte/courriels"),
    ("GET", "/liste-attente"),
    ("POST", "/liste-attente"),
    ("POST", "/liste-attente/quitter"),
    ("GET", "/gestion/cuisine/{id}/export"),
    ("GET", "/gestion/cuisine/appel"),
    ("GET", "/gestion/cuisine/{id}/appel.csv"),
    ("GET", "/gestion/finances"),
    ("GET", "/gestion/finances/factures"),
    ("GET", "/gestion/finances/paiements"),
    ("GET", "/gestion/finances/debiteurs"),
    ("GET", "/gestion/finances/debiteurs/export"),
    ("POST", "/gestion/finances/encaissements"),
    ("GET", "/gestion/finances/exports/{document}"),
    ("GET", "/gestion/finances/remboursements"),
    ("POST", "/gestion/finances/remboursements"),
    ("GET", "/gestion/finances/prelevements"),
    ("POST", "/gestion/finances/prelevements/creancier"),
    ("POST", "/gestion/finances/prelevements/mandats"),
    (
        "POST",
        "/gestion/finances/prelevements/mandats/{id}/revocation",
    ),
    ("POST", "/gestion/finances/prelevements/lot"),
    ("GET", "/gestion/finances/prelevements/fichier"),
    ("POST", "/gestion/finances/prelevements/rejets"),
    ("GET", "/gestion/documents"),
    ("POST", "/gestion/documents"),
    ("GET", "/gestion/documents/{id}"),
    ("POST", "/gestion/documents/{id}/retrait"),
    ("GET", "/documents"),
    ("GET", "/documents/{id}"),
    ("GET", "/documents-publics/{id}"),
    ("GET", "/logo"),
    // The administrators' pages of the back office (`src/web/backoffice/admin`)
    ("GET", "/gestion/familles"),
    ("POST", "/gestion/familles"),
    ("GET", "/gestion/familles/{id}"),
    ("POST", "/gestion/familles/{id}"),
    ("GET", "/gestion/familles/{id}/dossier"),
    ("POST", "/gestion/familles/{id}/dossier/reservation"),
    ("POST", "/gestion/reservations/{id}/annulation"),
    ("POST", "/gestion/familles/{id}/deverrouillage"),
    ("POST", "/gestion/familles/{id}/mot-de-passe"),
    ("POST", "/gestion/familles/{id}/desactivation"),
    ("POST", "/gestion/familles/{id}/activation"),
    ("POST", "/gestion/familles/{id}/enfants"),
    ("POST", "/gestion/familles/{id}/enfants/{child_id}"),
    ("GET", "/gestion/audit"),
    ("POST", "/gestion/audit/verification"),
    ("GET", "/gestion/audit/evenements"),
    ("GET", "/gestion/audit/connexions"),
    ("GET", "/gestion/mon-compte"),
    ("POST", "/gestion/mon-compte"),
    ("GET", "/gestion/personnel"),
    ("POST", "/gestion/personnel/{id}/deverrouillage"),
    ("POST", "/gestion/personnel/{id}/mot-de-passe"),
    ("GET", "/gestion/commune"),
    ("POST", "/gestion/commune"),
    ("POST", "/gestion/commune/logo"),
    ("POST", "/gestion/commune/logo/retrait"),
    ("GET", "/gestion/restaurants"),
    ("POST", "/gestion/restaurants"),
    ("GET", "/gestion/restaurants/{id}"),
    ("POST", "/gestion/restaurants/{id}"),
    ("GET", "/gestion/periodes"),
    ("POST", "/gestion/periodes"),
    ("GET", "/gestion/periodes/{id}"),
    ("POST", "/gestion/periodes/{id}/fermetures"),
    ("POST", "/gestion/periodes/{id}/capacite"),
    ("POST", "/gestion/periodes/{id}/tarifs"),
];

/// A day without places (capacity 0), for the waiting list's rows.
const WAITLIST_DAY: &str = "2017-03-06";

/// The login form's double-submit value, sent both as its cookie and its field.
const LOGIN_FORM_TOKEN: &str = "matrice";

/// The expected status per caller, in the order of [`WHO`]. A new route needs a row here.
fn expected(method: &Method, path: &str) -> Option<[u16; 8]> {
    const FAMILY_READ: [u16; 8] = [401, 200, 200, 403, 403, 403, 403, 403];
    const FAMILY_ID_READ: [u16; 8] = [401, 200, 404, 403, 403, 403, 403, 403];
    const FAMILY_ID_WRITE: [u16; 8] = [401, 201, 404, 403, 403, 403, 403, 403];
    const FAMILY_ID_ACT: [u16; 8] = [401, 200, 404, 403, 403, 403, 403, 403];
    const ADMIN_CREATE: [u16; 8] = [401, 403, 403, 201, 403, 403, 403, 403];
    const ADMIN_OK: [u16; 8] = [401, 403, 403, 200, 403, 403, 403, 403];
    const ADMIN_ACCEPTED: [u16; 8] = [401, 403, 403, 202, 403, 403, 403, 403];
    const OWN_ACCOUNT: [u16; 8] = [401, 200, 200, 200, 200, 200, 200, 200];
    const PORTAL_PAGE: [u16; 8] = [401, 200, 200, 403, 403, 403, 403, 403];
    const PORTAL_FORM: [u16; 8] = [401, 303, 303, 403, 403, 403, 403, 403];
    const PORTAL_ID_PAGE: [u16; 8] = [401, 200, 404, 403, 403, 403, 403, 403];
    const PORTAL_ID_FORM: [u16; 8] = [401, 303, 404, 403, 403, 403, 403, 403];
    const STAFF_PAGE: [u16; 8] = [401, 403, 403, 200, 200, 200, 200, 200];
    const STAFF_FORM: [u16; 8] = [401, 403, 403, 303, 303, 303, 303, 303];
    const KITCHEN_PAGE: [u16; 8] = [401, 403, 403, 200, 200, 403, 403, 403];
    const FINANCE_PAGE: [u16; 8] = [401, 403, 403, 403, 403, 200, 403, 403];
    let row = match (method.as_str(), path) {
        ("GET", "/health") => [200; 8],
        ("GET", "/ready") => [200; 8],
        // Not served without CANTINE_METRICS_TOKEN or CANTINE_METRICS_LISTEN (tests/api/observability.rs).
        ("GET", "/metrics") => [404; 8],
        ("GET", "/api/v1/openapi.json") => [200; 8],
        ("POST", "/api/v1/auth/login") => [200; 8],
        ("POST", "/api/v1/auth/logout") => [401, 204, 204, 204, 204, 204, 204, 204],
        ("POST", "/api/v1/auth/password-email") => [202; 8],
        ("POST", "/api/v1/auth/password") => [422; 8],
        ("GET", "/mot-de-passe") => [410; 8],
        ("POST", "/mot-de-passe") => [410; 8],
        ("POST", "/api/v1/account/password") => OWN_ACCOUNT,
        ("POST", "/api/v1/account/login") => OWN_ACCOUNT,
        ("POST", "/api/v1/admin/restaurants") => ADMIN_CREATE,
        ("POST", "/api/v1/admin/periods") => ADMIN_CREATE,
        ("POST", "/api/v1/admin/families") => ADMIN_CREATE,
        ("GET", "/api/v1/admin/families/{id}") => ADMIN_OK,
        ("PATCH", "/api/v1/admin/families/{id}") => ADMIN_OK,
        ("POST", "/api/v1/admin/families/{id}/disable") => ADMIN_OK,
        // The desk books for the Dupont family; it cancels a reservation nobody has.
        ("POST", "/api/v1/admin/families/{id}/reservations") => {
            [401, 403, 403, 201, 403, 403, 403, 201]
        }
        ("POST", "/api/v1/admin/reservations/{id}/cancel") => {
            [401, 403, 403, 404, 403, 403, 403, 404]
        }
        ("POST", "/api/v1/admin/families/{id}/enable") => ADMIN_OK,
        ("POST", "/api/v1/admin/families/{id}/unlock") => ADMIN_OK,
        ("POST", "/api/v1/admin/families/{id}/password-email") => ADMIN_ACCEPTED,
        ("POST", "/api/v1/admin/staff/unlock") => ADMIN_OK,
        ("POST", "/api/v1/admin/families/{id}/children") => ADMIN_CREATE,
        ("POST", "/api/v1/admin/clock") => ADMIN_OK,
        ("PUT", "/api/v1/admin/periods/{id}/capacity") => ADMIN_OK,
        ("PUT", "/api/v1/admin/periods/{id}/closures") => ADMIN_OK,
        ("POST", "/api/v1/admin/periods/{id}/tariffs") => ADMIN_CREATE,
        ("GET", "/api/v1/admin/periods/{id}/tariffs") => ADMIN_OK,
        // Finance handles the families' papers, the quotient familial among them.
        ("PUT", "/api/v1/admin/families/{id}/quotient") => [401, 403, 403, 200, 403, 200, 403, 403],
        ("GET", "/api/v1/admin/projections") => ADMIN_OK,
        ("GET", "/api/v1/admin/mail") => ADMIN_OK,
        ("GET", "/api/v1/restaurants/{id}/headcounts" | "/api/v1/restaurants/{id}/roll-call") => {
            [401, 403, 403, 200, 200, 403, 403, 403]
        }
        ("GET", "/api/v1/finance/invoices") => [401, 403, 403, 403, 403, 200, 403, 403],
        ("GET", "/api/v1/finance/exports/{document}") => [401, 403, 403, 403, 403, 200, 403, 403],
        ("GET", "/api/v1/finance/reconciliation") => [401, 403, 403, 403, 403, 200, 403, 403],
        // A desk payment for the fixture's family (cash, nothing to trace); reversing a
        // payment of nobody's is 404.
        ("POST", "/api/v1/finance/payments") => [401, 403, 403, 403, 403, 201, 403, 403],
        ("GET", "/api/v1/finance/debtors") => [401, 403, 403, 403, 403, 200, 403, 403],
        ("POST", "/api/v1/finance/payments/{id}/reversal") => {
            [401, 403, 403, 403, 403, 404, 403, 403]
        }
        // SEPA: the creditor is read before it is set (404), then set; the admin records the
        // Dupont family's mandate, finance then finds it in force (409); nothing to collect in
        // the fixture's month; a debit and a mandate of nobody's; an R-file that is not one.
        // A refund of more than the Dupont family's credit is refused (the 1.00 € of cash
        // recorded above is its credit): only access decides, nothing recorded.
        ("POST", "/api/v1/finance/refunds") => [401, 403, 403, 403, 403, 422, 403, 403],
        ("GET", "/api/v1/finance/creditor") => [401, 403, 403, 403, 403, 404, 403, 403],
        ("PUT", "/api/v1/finance/creditor") => [401, 403, 403, 403, 403, 200, 403, 403],
        ("POST", "/api/v1/finance/mandates") => [401, 403, 403, 201, 403, 409, 403, 403],
        ("GET", "/api/v1/finance/families/{id}/mandates") => {
            [401, 403, 403, 200, 403, 200, 403, 403]
        }
        ("POST", "/api/v1/finance/mandates/{id}/revocation") => {
            [401, 403, 403, 404, 403, 404, 403, 403]
        }
        ("GET", "/api/v1/finance/sepa/{month}") => [401, 403, 403, 403, 403, 404, 403, 403],
        ("POST", "/api/v1/finance/sepa-rejections") => [401, 403, 403, 403, 403, 404, 403, 403],
        ("POST", "/api/v1/finance/sepa-rejections/file") => {
            [401, 403, 403, 403, 403, 422, 403, 403]
        }
        ("GET", "/api/v1/audit/events") => [401, 403, 403, 403, 403, 403, 200, 403],
        ("GET", "/api/v1/audit/logins") => [401, 403, 403, 200, 403, 403, 200, 403],
        ("GET", "/api/v1/family") => FAMILY_READ,
        ("GET", "/api/v1/establishments") => FAMILY_READ,
        ("GET", "/api/v1/children/{child_id}/calendar") => FAMILY_ID_READ,
        ("POST", "/api/v1/reservations") => FAMILY_ID_WRITE,
        // The Dupont child in line for the fixture's day without places, then off it.
        ("POST", "/api/v1/waitlist") => FAMILY_ID_WRITE,
        ("GET", "/api/v1/waitlist") => FAMILY_READ,
        ("DELETE", "/api/v1/waitlist/{child_id}/{date}") => {
            [401, 204, 404, 403, 403, 403, 403, 403]
        }
        ("GET", "/api/v1/reservations") => FAMILY_READ,
        ("GET", "/api/v1/reservations/{id}") => FAMILY_ID_READ,
        ("POST", "/api/v1/reservations/{id}/confirm") => FAMILY_ID_ACT,
        ("POST", "/api/v1/reservations/{id}/cancel") => FAMILY_ID_ACT,
        ("GET", "/api/v1/cart") => FAMILY_READ,
        ("POST", "/api/v1/payments") => FAMILY_ID_WRITE,
        ("GET", "/api/v1/invoices") => FAMILY_READ,
        ("GET", "/api/v1/ledger") => FAMILY_READ,
        ("GET", "/api/v1/documents") => FAMILY_READ,
        // A document nobody published: not found, for whoever may look.
        ("GET", "/api/v1/documents/{id}") => [401, 404, 404, 403, 403, 403, 403, 403],
        ("DELETE", "/api/v1/admin/documents/{id}") => [401, 403, 403, 404, 403, 403, 403, 403],
        // A payment nobody started: not found for a family, whichever.
        ("GET", "/api/v1/payments/{id}") => [401, 404, 404, 403, 403, 403, 403, 403],
        // Unsigned: the signature is the only proof that counts, whoever is logged in.
        ("POST", "/api/v1/payments/{id}/notify") => [401; 8],
        // The simulator's page of an unknown payment.
        ("GET", "/api/v1/payments/{id}/checkout") => [404; 8],
        ("POST", "/api/v1/payments/{id}/checkout") => [404; 8],
        // The family portal: pages answer 200, forms 303 to the next page; a page without a
        // session is the login form (401), staff get a French 403 page.
        ("GET", "/portail.css") => [200; 8],
        ("GET", "/connexion") => [200; 8],
        ("POST", "/connexion") => [303; 8],
        // The same answer for any address: the page says so, it does not move on.
        ("GET", "/connexion/mot-de-passe") => [200; 8],
        ("POST", "/connexion/mot-de-passe") => [200; 8],
        ("POST", "/deconnexion") => PORTAL_FORM,
        ("GET", "/") => PORTAL_PAGE,
        ("GET", "/reservation/nouvelle") => PORTAL_ID_PAGE,
        ("GET", "/reservation/calendrier") => PORTAL_ID_PAGE,
        // The portal's waiting list: the page, joining the day without places, leaving it.
        ("GET", "/liste-attente") => PORTAL_ID_PAGE,
        ("POST", "/compte/courriels") => PORTAL_FORM,
        ("POST", "/liste-attente") => PORTAL_ID_FORM,
        ("POST", "/liste-attente/quitter") => PORTAL_ID_FORM,
        ("GET", "/gestion/attente") => KITCHEN_PAGE,
        ("POST", "/reservation/calendrier") => PORTAL_ID_FORM,
        ("GET", "/reservations/{id}") => PORTAL_ID_PAGE,
        ("POST", "/reservations/{id}/confirmer") => PORTAL_ID_FORM,
        ("GET", "/reservations/{id}/annuler") => PORTAL_ID_PAGE,
        ("POST", "/reservations/{id}/annuler") => PORTAL_ID_FORM,
        ("GET", "/panier") => PORTAL_PAGE,
        // The cart holds the reservation that the API's payment row put in a pending payment:
        // a second payment of it is refused, by rule, without changing anything.
        ("POST", "/panier/paiement") => [401, 409, 409, 403, 403, 403, 403, 403],
        ("GET", "/paiements/{id}") => [401, 404, 404, 403, 403, 403, 403, 403],
        ("GET", "/historique") => PORTAL_PAGE,
        ("GET", "/factures") => PORTAL_PAGE,
        ("GET", "/compte") => PORTAL_PAGE,
        ("POST", "/compte/mot-de-passe") => PORTAL_FORM,
        ("POST", "/compte/identifiant") => PORTAL_FORM,
        ("POST", "/compte/famille") => PORTAL_FORM,
        ("GET", "/reservation/recapitulatif") => PORTAL_ID_PAGE,
        ("POST", "/reservation/recapitulatif") => PORTAL_ID_FORM,
        ("GET", "/reservation/bilan") => PORTAL_ID_PAGE,
        // No invoice in the fixture: an id of nobody's, the same 404 for both families.
        ("GET", "/factures/{id}") => [401, 404, 404, 403, 403, 403, 403, 403],
        // Paying an invoice: an id of nobody's, the same 404 for both families.
        ("POST", "/factures/{id}/paiement") => [401, 404, 404, 403, 403, 403, 403, 403],
        ("GET", "/compte/releve") => PORTAL_PAGE,
        // The back office: pages of the staff roles the API's routes allow; families get a
        // French 403 page, as do staff of another role.
        ("GET", "/gestion" | "/gestion/mon-compte") => STAFF_PAGE,
        // The families' list: the desk opens their files from it.
        ("GET", "/gestion/familles") => [401, 403, 403, 200, 403, 403, 403, 200],
        // The auditors' pages; starting a verification answers with the page it runs on.
        ("GET", "/gestion/audit" | "/gestion/audit/evenements" | "/gestion/audit/connexions") => {
            [401, 403, 403, 403, 403, 403, 200, 403]
        }
        ("POST", "/gestion/audit/verification") => [401, 403, 403, 403, 403, 403, 303, 403],
        ("POST", "/gestion/deconnexion" | "/gestion/mon-compte") => STAFF_FORM,
        ("GET", "/gestion/cuisine") => KITCHEN_PAGE,
        ("GET", "/gestion/cuisine/{id}/export" | "/gestion/cuisine/{id}/appel.csv") => KITCHEN_PAGE,
        ("GET", "/gestion/cuisine/appel") => KITCHEN_PAGE,
        ("GET", "/gestion/finances") => FINANCE_PAGE,
        ("GET", "/gestion/finances/factures") => FINANCE_PAGE,
        ("GET", "/gestion/finances/paiements") => FINANCE_PAGE,
        ("GET", "/gestion/finances/debiteurs") => FINANCE_PAGE,
        ("GET", "/gestion/finances/debiteurs/export") => FINANCE_PAGE,
        // Cash for the Dupont family: recorded, then back to the list.
        ("POST", "/gestion/finances/encaissements") => [401, 403, 403, 403, 403, 303, 403, 403],
        ("GET", "/gestion/finances/exports/{document}") => FINANCE_PAGE,
        // The SEPA page: the creditor set, the Martin family's mandate recorded (303); nothing
        // to collect in the fixture's month (422, said on the page); a batch, a mandate and a
        // debit of nobody's (404).
        ("GET", "/gestion/finances/remboursements") => FINANCE_PAGE,
        ("POST", "/gestion/finances/remboursements") => [401, 403, 403, 403, 403, 422, 403, 403],
        ("GET", "/gestion/finances/prelevements") => FINANCE_PAGE,
        ("POST", "/gestion/finances/prelevements/creancier") => {
            [401, 403, 403, 403, 403, 303, 403, 403]
        }
        ("POST", "/gestion/finances/prelevements/mandats") => {
            [401, 403, 403, 403, 403, 303, 403, 403]
        }
        ("POST", "/gestion/finances/prelevements/mandats/{id}/revocation") => {
            [401, 403, 403, 403, 403, 404, 403, 403]
        }
        ("POST", "/gestion/finances/prelevements/lot") => [401, 403, 403, 403, 403, 422, 403, 403],
        ("GET", "/gestion/finances/prelevements/fichier") => {
            [401, 403, 403, 403, 403, 404, 403, 403]
        }
        ("POST", "/gestion/finances/prelevements/rejets") => {
            [401, 403, 403, 403, 403, 404, 403, 403]
        }
        ("GET", "/gestion/documents") => [401, 403, 403, 200, 403, 403, 403, 403],
        ("POST", "/gestion/documents") => [401, 403, 403, 303, 403, 403, 403, 403],
        // A document nobody published: not found, for whoever may look.
        ("GET", "/gestion/documents/{id}") => [401, 403, 403, 404, 403, 403, 403, 403],
        ("POST", "/gestion/documents/{id}/retrait") => [401, 403, 403, 404, 403, 403, 403, 403],
        ("GET", "/documents") => PORTAL_PAGE,
        ("GET", "/documents/{id}") => [401, 404, 404, 403, 403, 403, 403, 403],
        // Public documents are anyone's; a document nobody has is not found, for everyone.
        ("GET", "/documents-publics/{id}") => [404; 8],
        // The town's logo is anyone's; before the administrators' row gives one, there is none.
        ("GET", "/logo") => [404; 8],
        // The administrators' pages: the API's admin role only. The closures form answers with
        // the period's page itself (it lists the booked days the new closures close).
        ("PATCH", "/api/v1/admin/restaurants/{id}") => ADMIN_OK,
        ("PATCH", "/api/v1/admin/families/{id}/children/{child_id}") => ADMIN_OK,
        (
            "GET",
            "/gestion/familles/{id}"
            | "/gestion/personnel"
            | "/gestion/commune"
            | "/gestion/restaurants"
            | "/gestion/restaurants/{id}"
            | "/gestion/periodes"
            | "/gestion/periodes/{id}",
        ) => ADMIN_OK,
        // A staff account nobody has: not found, for the administrators who may look. (A real
        // one's new password would end the session the matrix goes on with.)
        (
            "POST",
            "/gestion/personnel/{id}/deverrouillage" | "/gestion/personnel/{id}/mot-de-passe",
        ) => [401, 403, 403, 404, 403, 403, 403, 403],
        ("POST", "/gestion/periodes/{id}/fermetures") => ADMIN_OK,
        // The desk's forms answer with the family's file: booked, or a reservation nobody has.
        (
            "GET" | "POST",
            "/gestion/familles/{id}/dossier" | "/gestion/familles/{id}/dossier/reservation",
        ) => [401, 403, 403, 200, 403, 403, 403, 200],
        ("POST", "/gestion/reservations/{id}/annulation") => {
            [401, 403, 403, 404, 403, 403, 403, 404]
        }
        (
            "POST",
            "/gestion/familles"
            | "/gestion/familles/{id}"
            | "/gestion/familles/{id}/deverrouillage"
            | "/gestion/familles/{id}/mot-de-passe"
            | "/gestion/familles/{id}/desactivation"
            | "/gestion/familles/{id}/activation"
            | "/gestion/familles/{id}/enfants"
            | "/gestion/familles/{id}/enfants/{child_id}"
            | "/gestion/commune"
            | "/gestion/commune/logo"
            | "/gestion/commune/logo/retrait"
            | "/gestion/restaurants"
            | "/gestion/restaurants/{id}"
            | "/gestion/periodes"
            | "/gestion/periodes/{id}/capacite"
            | "/gestion/periodes/{id}/tarifs",
        ) => [401, 403, 403, 303, 403, 403, 403, 403],
        _ => return None,
    };
    Some(row)
}

/// Routes after which the caller's session has ended.
fn ends_session(method: &Method, path: &str) -> bool {
    method == Method::POST
        && [
            "/api/v1/auth/logout",
            "/api/v1/account/password",
            "/deconnexion",
            "/compte/mot-de-passe",
            "/gestion/deconnexion",
            "/gestion/mon-compte",
        ]
        .contains(&path)
}

/// A family of the fixture with a reservation for each family route that acts on one.
struct Side {
    family_id: String,
    child_id: String,
    login: String,
    child_name: &'static str,
    to_read: String,
    to_confirm: String,
    to_cancel: String,
    to_pay: String,
    /// Requested, for the portal's confirm form (the API's confirm row takes `to_confirm`).
    to_confirm_in_portal: String,
    /// Requested, for the portal's cancel form (the API's cancel row takes `to_cancel`).
    to_cancel_in_portal: String,
}

struct Fixture {
    app: TestApp,
    period_id: String,
    restaurant_id: String,
    dupont: Side,
    martin: Side,
    /// The family the admin's account routes act on.
    target_family: String,
    credentials: HashMap<Who, (String, String)>,
    tokens: HashMap<Who, String>,
    counter: u32,
}

const PASSWORD: &str = "mot-de-passe-matrice";

async fn staff(app: &TestApp, role: Role) -> (String, String) {
    let login = format!("matrice-{}", role.as_str());
    db::accounts::insert_user(
        &app.pool,
        &login,
        Some(&hash_password(PASSWORD).unwrap()),
        role,
        None,
    )
    .await
    .unwrap();
    (login, PASSWORD.to_string())
}

async fn family(
    app: &TestApp,
    admin: &str,
    name: &str,
    child: &'static str,
    days: [&str; 6],
    period: &str,
) -> Side {
    let login = format!("{}@example.fr", name.to_lowercase());
    let id = app
        .post(
            "/api/v1/admin/families",
            admin,
            json!({"name": name, "login": login, "password": PASSWORD}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let child_id = app
        .post(
            &format!("/api/v1/admin/families/{id}/children"),
            admin,
            json!({"first_name": child, "last_name": name}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = app.token(&login, PASSWORD).await;
    let mut reservations = Vec::new();
    for day in days {
        let reply = app
            .post(
                "/api/v1/reservations",
                &token,
                json!({"child_id": child_id, "period_id": period, "days": [day]}),
            )
            .await;
        reservations.push(reply.assert_status(201)["id"].as_str().unwrap().to_string());
    }
    app.post_empty(
        &format!("/api/v1/reservations/{}/confirm", reservations[3]),
        &token,
    )
    .await
    .assert_status(200);
    Side {
        family_id: id,
        child_id,
        login,
        child_name: child,
        to_read: reservations[0].clone(),
        to_confirm: reservations[1].clone(),
        to_cancel: reservations[2].clone(),
        to_pay: reservations[3].clone(),
        to_confirm_in_portal: reservations[4].clone(),
        to_cancel_in_portal: reservations[5].clone(),
    }
}

impl Fixture {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut credentials = HashMap::new();
        for (who, role) in [
            (Who::Admin, Role::Admin),
            (Who::Kitchen, Role::Kitchen),
            (Who::Finance, Role::Finance),
            (Who::Auditor, Role::Auditor),
            (Who::Desk, Role::Desk),
        ] {
            credentials.insert(who, staff(&app, role).await);
        }
        let (admin_login, _) = &credentials[&Who::Admin];
        let admin = app.token(admin_login, PASSWORD).await;
        let restaurant_id = app
            .post(
                "/api/v1/admin/restaurants",
                &admin,
                json!({"name": "Restaurant Scolaire Le Repausset", "capacity": 120}),
            )
            .await
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let period_id = app
            .post(
                "/api/v1/admin/periods",
                &admin,
                repausset_period(&restaurant_id),
            )
            .await
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let dupont = family(
            &app,
            &admin,
            "DUPONT",
            "Hervé",
            [
                "2017-01-23",
                "2017-01-24",
                "2017-01-26",
                "2017-01-27",
                "2017-01-31",
                "2017-02-03",
            ],
            &period_id,
        )
        .await;
        let martin = family(
            &app,
            &admin,
            "MARTIN",
            "Inès",
            [
                "2017-01-23",
                "2017-01-24",
                "2017-01-26",
                "2017-01-27",
                "2017-01-31",
                "2017-02-03",
            ],
            &period_id,
        )
        .await;
        let target_family = app
            .post(
                "/api/v1/admin/families",
                &admin,
                json!({"name": "CIBLE", "login": "cible@example.fr"}),
            )
            .await
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(
            "/api/v1/admin/families",
            &admin,
            json!({"name": "RESERVE", "login": "reserve@example.fr", "password": PASSWORD}),
        )
        .await
        .assert_status(201);
        app.put(
            &format!("/api/v1/admin/periods/{period_id}/capacity"),
            &admin,
            json!({"date": WAITLIST_DAY, "capacity": 0}),
        )
        .await
        .assert_status(200);
        credentials.insert(Who::FamilyOwn, (dupont.login.clone(), PASSWORD.into()));
        credentials.insert(Who::FamilyOther, (dupont.login.clone(), PASSWORD.into()));
        let mut fixture = Fixture {
            app,
            period_id,
            restaurant_id,
            dupont,
            martin,
            target_family,
            credentials,
            tokens: HashMap::new(),
            counter: 0,
        };
        fixture.log_in_again(Who::FamilyOwn).await;
        for who in [
            Who::Admin,
            Who::Kitchen,
            Who::Finance,
            Who::Auditor,
            Who::Desk,
        ] {
            fixture.log_in_again(who).await;
        }
        fixture
    }

    async fn log_in_again(&mut self, who: Who) {
        let (login, password) = self.credentials[&who].clone();
        let token = self.app.token(&login, &password).await;
        if matches!(who, Who::FamilyOwn | Who::FamilyOther) {
            self.tokens.insert(Who::FamilyOwn, token.clone());
            self.tokens.insert(Who::FamilyOther, token);
        } else {
            self.tokens.insert(who, token);
        }
    }

    /// The ids a caller puts in the request: the Martin family's for `FamilyOther`, the Dupont
    /// family's otherwise.
    fn side(&self, who: Who) -> &Side {
        if who == Who::FamilyOther {
            &self.martin
        } else {
            &self.dupont
        }
    }

    /// The request a caller sends to this route: valid, so that only access decides.
    fn request(&mut self, method: &Method, path: &str, who: Who) -> (String, Body) {
        self.counter += 1;
        let n = self.counter;
        let side = self.side(who);
        let credentials = self.credentials.get(&who);
        let own_password = credentials.map(|c| c.1.clone()).unwrap_or_default();
        let own_login = credentials.map(|c| c.0.clone()).unwrap_or_default();
        let family_for_admin_route = match who {
            Who::FamilyOwn | Who::FamilyOther => side.family_id.clone(),
            _ => self.target_family.clone(),
        };
        let random = Uuid::new_v4().to_string();
        let path_with_ids = path
            .replace("{child_id}", &side.child_id)
            .replace("{document}", "payments")
            .replace("{month}", "2017-01")
            .replace("{date}", WAITLIST_DAY)
            .replace(
                "{id}",
                // A child's route: the child's own family (the Dupont family's, for staff).
                if (path.contains("{child_id}") && path.contains("/famil"))
                    || path == "/api/v1/admin/families/{id}/reservations"
                    || path == "/gestion/familles/{id}/dossier/reservation"
                {
                    &side.family_id
                } else if path.starts_with("/api/v1/admin/families/")
                    || path.starts_with("/api/v1/finance/families/")
                    || path.starts_with("/gestion/familles/")
                {
                    &family_for_admin_route
                } else if path.starts_with("/api/v1/admin/periods/")
                    || path.starts_with("/gestion/periodes/")
                {
                    &self.period_id
                } else if path.starts_with("/api/v1/restaurants/")
                    || path.starts_with("/gestion/cuisine/")
                    || path.starts_with("/api/v1/admin/restaurants/")
                    || path.starts_with("/gestion/restaurants/")
                {
                    &self.restaurant_id
                } else if path.starts_with("/api/v1/payments/")
                    || path.starts_with("/api/v1/finance/payments/")
                    || path.starts_with("/api/v1/finance/mandates/")
                    || path.starts_with("/gestion/finances/prelevements/mandats/")
                    || path.starts_with("/paiements/")
                    || path.starts_with("/factures/")
                    || path.starts_with("/api/v1/documents/")
                    || path.starts_with("/api/v1/admin/documents/")
                    || path.starts_with("/documents/")
                    || path.starts_with("/documents-publics/")
                    || path.starts_with("/gestion/documents/")
                    || path.starts_with("/gestion/personnel/")
                    || path.starts_with("/api/v1/admin/reservations/")
                    || path.starts_with("/gestion/reservations/")
                {
                    &random
                } else if path.ends_with("/confirmer") {
                    &side.to_confirm_in_portal
                } else if path.ends_with("/annuler") {
                    &side.to_cancel_in_portal
                } else if path.ends_with("/confirm") {
                    &side.to_confirm
                } else if path.ends_with("/cancel") {
                    &side.to_cancel
                } else {
                    &side.to_read
                },
            );
        // A portal form carries the CSRF token of the caller's own session.
        let csrf = self
            .tokens
            .get(&who)
            .map(|token| csrf_token_for_session(&self.app.state, token))
            .unwrap_or_default();
        let body = match (method.as_str(), path) {
            ("POST", "/connexion") => Body::Form(format!(
                "identifiant=reserve%40example.fr&mot_de_passe={PASSWORD}&csrf={LOGIN_FORM_TOKEN}&suivant=%2F"
            )),
            ("POST", "/connexion/mot-de-passe") => Body::Form(format!(
                "identifiant=inconnu-{n}%40example.fr&csrf={LOGIN_FORM_TOKEN}"
            )),
            // The caller's own password and login again: only access decides.
            ("POST", "/compte/mot-de-passe" | "/gestion/mon-compte") => Body::Form(format!(
                "csrf={csrf}&mot_de_passe_actuel={own_password}&nouveau_mot_de_passe={own_password}&confirmation={own_password}"
            )),
            // The family's own contact details: a valid address, only access decides.
            ("POST", "/compte/famille") => Body::Form(format!(
                "csrf={csrf}&adresse=1+rue+Neuve&telephone=0466717155"
            )),
            ("POST", "/compte/identifiant") => Body::Form(format!(
                "csrf={csrf}&mot_de_passe_actuel={own_password}&identifiant={}",
                own_login.replace('@', "%40")
            )),
            (
                "POST",
                "/deconnexion"
                | "/gestion/deconnexion"
                | "/gestion/documents/{id}/retrait"
                | "/gestion/commune/logo/retrait"
                | "/gestion/audit/verification"
                | "/gestion/reservations/{id}/annulation"
                | "/gestion/personnel/{id}/deverrouillage"
                | "/gestion/personnel/{id}/mot-de-passe"
                | "/reservations/{id}/confirmer"
                | "/panier/paiement"
                | "/factures/{id}/paiement",
            ) => {
                Body::Form(format!("csrf={csrf}"))
            }
            // The answer to the question the page asks first.
            ("POST", "/reservations/{id}/annuler") => {
                Body::Form(format!("csrf={csrf}&confirmation=oui"))
            }
            // Nothing chosen: only whose child it is decides.
            ("POST", "/reservation/recapitulatif") => Body::Form(format!(
                "csrf={csrf}&enfant={}&periode={}&mois=2017-01",
                side.child_id, self.period_id
            )),
            // A Thursday the API's booking row does not take.
            ("POST", "/gestion/familles/{id}/dossier/reservation") => Body::Form(format!(
                "csrf={csrf}&enfant={}&periode={}&du={}",
                side.child_id,
                self.period_id,
                if who == Who::Desk { "2017-02-10" } else { "2017-02-07" }
            )),
            // Every optional e-mail kept: only access decides.
            ("POST", "/compte/courriels") => Body::Form(format!(
                "csrf={csrf}&courriel=payment_received&courriel=hold_reminder&courriel=invoice_issued&courriel=credit_note"
            )),
            ("POST", "/liste-attente" | "/liste-attente/quitter") => Body::Form(format!(
                "csrf={csrf}&enfant={}&periode={}&jour={WAITLIST_DAY}",
                side.child_id, self.period_id
            )),
            ("POST", "/reservation/calendrier") => Body::Form(format!(
                "csrf={csrf}&enfant={}&periode={}&mois=2017-02&jour=2017-02-02&choix=jours",
                side.child_id, self.period_id
            )),
            // A one-line PDF: only access decides.
            ("POST", "/gestion/documents") => Body::Multipart(format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"titre\"\r\n\r\nRèglement {n}\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"nature\"\r\n\r\nrules\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"r.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n%PDF-1.4\n1 0 obj << >> endobj\nstartxref\n0\n%%EOF\r\n--{BOUNDARY}--\r\n"
            ).into_bytes()),
            // A PNG's signature and a few bytes: what the logo's check reads.
            ("POST", "/gestion/commune/logo") => {
                let mut body = format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                     --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\n\
                     Content-Type: image/png\r\n\r\n"
                )
                .into_bytes();
                body.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
                body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
                Body::Multipart(body)
            }
            // The administrators' forms: valid, and changing nothing the other rows rely on.
            ("POST", "/gestion/familles") => Body::Form(format!(
                "csrf={csrf}&nom=FAMILLE+PAGE+{n}&email=famille-page-{n}%40example.fr&quotient="
            )),
            ("POST", "/gestion/familles/{id}") => Body::Form(format!(
                "csrf={csrf}&nom=CIBLE+{n}&email=cible%40example.fr&quotient={}",
                300 + n
            )),
            ("POST", "/gestion/familles/{id}/enfants") => {
                Body::Form(format!("csrf={csrf}&prenom=L%C3%A9a&nom=CIBLE&menu=standard"))
            }
            ("POST", "/gestion/familles/{id}/enfants/{child_id}") => Body::Form(format!(
                "csrf={csrf}&prenom={}&nom={}&menu=standard",
                side.child_name.replace('é', "%C3%A9"),
                if who == Who::FamilyOther { "MARTIN" } else { "DUPONT" }
            )),
            ("POST", "/gestion/commune") => Body::Form(format!(
                "csrf={csrf}&telephone=04.66.71.71.55&courriel=&site="
            )),
            ("POST", "/gestion/restaurants") => Body::Form(format!(
                "csrf={csrf}&nom=Restaurant+{n}&capacite=10"
            )),
            ("POST", "/gestion/restaurants/{id}") => Body::Form(format!(
                "csrf={csrf}&nom=Restaurant+Scolaire+Le+Repausset&capacite=120"
            )),
            ("POST", "/gestion/periodes/{id}/fermetures") => Body::Form(format!(
                "csrf={csrf}&lignes=2&libelle-0=No%C3%ABl&du-0=2016-12-17&au-0=2017-01-02\
                 &libelle-1=Hiver&du-1=2017-02-18&au-1=2017-03-05"
            )),
            // The autumn after the fixture's period: no day the other rows book.
            ("POST", "/gestion/periodes") => Body::Form(format!(
                "csrf={csrf}&restaurant={}&activite=CANTINE&libelle=Automne+{n}&du=2017-09-04\
                 &au=2017-12-15&jour-mon=oui&jour-thu=oui&service=REPAS&debut_service=12%3A00\
                 &fin_service=13%3A00&delai=semaine&delai_jour=tue&delai_heure=09%3A30\
                 &paiement=prepaye&attente=60&prix=4%2C15",
                self.restaurant_id
            )),
            ("POST", "/gestion/periodes/{id}/capacite") => Body::Form(format!(
                "csrf={csrf}&date=2017-02-02&capacite={}",
                100 + n
            )),
            // From June, a day after the API's row: no day the other rows book or pay.
            ("POST", "/gestion/periodes/{id}/tarifs") => Body::Form(format!(
                "csrf={csrf}&debut=2017-06-02&plafond-0=500&prix-0=1%2C50&prix-haut=4%2C97"
            )),
            // Disabled, then enabled again (the route table's order): later rows find it open.
            (
                "POST",
                "/gestion/familles/{id}/deverrouillage"
                | "/gestion/familles/{id}/mot-de-passe"
                | "/gestion/familles/{id}/desactivation"
                | "/gestion/familles/{id}/activation",
            ) => {
                Body::Form(format!("csrf={csrf}"))
            }
            ("PATCH", "/api/v1/admin/restaurants/{id}") => {
                Body::Json(json!({"name": "Restaurant Scolaire Le Repausset", "capacity": 120}))
            }
            ("PATCH", "/api/v1/admin/families/{id}/children/{child_id}") => {
                Body::Json(json!({"first_name": side.child_name}))
            }
            ("POST", "/api/v1/auth/login") => {
                Body::Json(json!({"login": "reserve@example.fr", "password": PASSWORD}))
            }
            ("POST", "/api/v1/auth/password-email") => {
                Body::Json(json!({"login": format!("inconnu-{n}@example.fr")}))
            }
            ("POST", "/api/v1/auth/password") => {
                Body::Json(json!({"token": "0".repeat(64), "new_password": "nouveau-mot-de-passe"}))
            }
            ("POST", "/mot-de-passe") => Body::Form(format!(
                "jeton={}&mot_de_passe=nouveau-mdp&confirmation=nouveau-mdp",
                "0".repeat(64)
            )),
            ("POST", "/api/v1/account/password") => {
                Body::Json(json!({"current_password": own_password, "new_password": own_password}))
            }
            ("POST", "/api/v1/account/login") => {
                Body::Json(json!({"current_password": own_password, "new_login": own_login}))
            }
            ("POST", "/api/v1/admin/restaurants") => {
                Body::Json(json!({"name": format!("Restaurant {n}"), "capacity": 10}))
            }
            ("POST", "/api/v1/admin/periods") => Body::Json(repausset_period(&self.restaurant_id)),
            ("POST", "/api/v1/admin/families") => Body::Json(
                json!({"name": format!("FAMILLE {n}"), "login": format!("famille-{n}@example.fr")}),
            ),
            ("PATCH", "/api/v1/admin/families/{id}") => {
                Body::Json(json!({"name": format!("CIBLE {n}")}))
            }
            // The kitchen's account: unlocking an unlocked account changes nothing.
            ("POST", "/api/v1/admin/staff/unlock") => Body::Json(json!({
                "login": self.credentials.get(&Who::Kitchen).map(|c| c.0.clone()).unwrap_or_default()
            })),
            ("POST", "/api/v1/admin/families/{id}/children") => {
                Body::Json(json!({"first_name": "Léa", "last_name": "CIBLE"}))
            }
            ("POST", "/api/v1/admin/clock") => Body::Json(json!({"advance_minutes": 0})),
            ("PUT", "/api/v1/admin/periods/{id}/capacity") => {
                Body::Json(json!({"date": "2017-02-02", "capacity": 100 + n}))
            }
            // The fixture's own closures: the other rows' days stay open.
            ("PUT", "/api/v1/admin/periods/{id}/closures") => Body::Json(json!({"closures": [
                {"from": "2016-12-17", "to": "2017-01-02", "label": "Noël"},
                {"from": "2017-02-18", "to": "2017-03-05", "label": "Hiver"}
            ]})),
            // From June: no day the other rows book or pay.
            ("POST", "/api/v1/admin/periods/{id}/tariffs") => Body::Json(json!({
                "effective_from": "2017-06-01",
                "brackets": [{"up_to": 500, "unit_price": "1.50"}, {"up_to": null, "unit_price": "4.97"}]
            })),
            ("PUT", "/api/v1/admin/families/{id}/quotient") => {
                Body::Json(json!({"quotient": 300 + n}))
            }
            ("POST", "/api/v1/reservations") => Body::Json(
                json!({"child_id": side.child_id, "period_id": self.period_id, "days": ["2017-01-30"]}),
            ),
            ("POST", "/api/v1/waitlist") => Body::Json(
                json!({"child_id": side.child_id, "period_id": self.period_id, "days": [WAITLIST_DAY]}),
            ),
            // The admin and the desk each book a day of their own for the Dupont child.
            ("POST", "/api/v1/admin/families/{id}/reservations") => Body::Json(json!({
                "child_id": side.child_id, "period_id": self.period_id,
                "days": [if who == Who::Desk { "2017-02-09" } else { "2017-02-06" }]
            })),
            ("POST", "/api/v1/payments") => Body::Json(json!({"reservation_ids": [side.to_pay]})),
            ("POST", "/api/v1/payments/{id}/notify") => {
                Body::Json(json!({"status": "succeeded", "amount": "4.15", "provider_ref": "x"}))
            }
            ("POST", "/api/v1/payments/{id}/checkout") => Body::Form("outcome=failed".into()),
            ("POST", "/gestion/finances/encaissements") => Body::Form(format!(
                "csrf={csrf}&famille={}&methode=cash&montant=1%2C00&reference=",
                side.family_id
            )),
            ("POST", "/api/v1/finance/payments") => Body::Json(
                json!({"family_id": side.family_id, "method": "cash", "amount": "1.00"}),
            ),
            ("POST", "/api/v1/finance/payments/{id}/reversal") => {
                Body::Json(json!({"reason": "saisie erronée"}))
            }
            ("POST", "/api/v1/finance/refunds") => Body::Json(
                json!({"family_id": side.family_id, "amount": "1000.00", "reference": "VIR-MATRICE"}),
            ),
            ("POST", "/gestion/finances/remboursements") => Body::Form(format!(
                "csrf={csrf}&famille={}&montant=1000%2C00&reference=VIR-MATRICE",
                side.family_id
            )),
            ("PUT", "/api/v1/finance/creditor") => Body::Json(
                json!({"creditor_id": "FR72ZZZ123456", "iban": "FR7630001007941234567890185", "bic": "BDFEFRPPCCT"}),
            ),
            ("POST", "/api/v1/finance/mandates") => Body::Json(
                json!({"family_id": side.family_id, "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP812",
                       "holder": "Famille Dupont", "rum": format!("RUM-MATRICE-{n}"), "signed_on": "2017-01-02"}),
            ),
            ("POST", "/api/v1/finance/mandates/{id}/revocation") => {
                Body::Json(json!({"reason": "changement de banque"}))
            }
            ("POST", "/api/v1/finance/sepa-rejections") => {
                Body::Json(json!({"end_to_end_id": format!("INCONNU-{n}"), "reason_code": "AM04"}))
            }
            ("POST", "/api/v1/finance/sepa-rejections/file") => {
                Body::Json(json!({"name": "r.xml", "xml": "<html/>"}))
            }
            ("POST", "/gestion/finances/prelevements/creancier") => Body::Form(format!(
                "csrf={csrf}&nom=R%C3%A9gie&ics=FR72ZZZ123456&iban=FR7630001007941234567890185&bic=BDFEFRPPCCT"
            )),
            ("POST", "/gestion/finances/prelevements/mandats") => Body::Form(format!(
                "csrf={csrf}&famille={}&titulaire=Famille+Martin&iban=DE89370400440532013000&bic=COBADEFFXXX&rum=RUM-PAGE-{n}&signe=2017-01-02&sequence=first",
                self.martin.family_id
            )),
            ("POST", "/gestion/finances/prelevements/mandats/{id}/revocation") => {
                Body::Form(format!("csrf={csrf}&motif=erreur"))
            }
            ("POST", "/gestion/finances/prelevements/lot") => Body::Form(format!("csrf={csrf}")),
            ("POST", "/gestion/finances/prelevements/rejets") => Body::Form(format!(
                "csrf={csrf}&reference=INCONNU-{n}&motif=AM04"
            )),
            _ => Body::None,
        };
        let query = match path {
            "/api/v1/children/{child_id}/calendar" => {
                format!("?period_id={}&month=2017-01", self.period_id)
            }
            "/reservation/nouvelle" => format!(
                "?enfant={}&restaurant={}&periode={}",
                side.child_id, self.restaurant_id, self.period_id
            ),
            "/liste-attente" if method == Method::GET => format!(
                "?enfant={}&periode={}&jour={WAITLIST_DAY}",
                side.child_id, self.period_id
            ),
            "/reservation/calendrier" if method == Method::GET => format!(
                "?enfant={}&periode={}&mois=2017-01",
                side.child_id, self.period_id
            ),
            "/reservation/recapitulatif" | "/reservation/bilan" if method == Method::GET => {
                format!(
                    "?enfant={}&periode={}&mois=2017-01",
                    side.child_id, self.period_id
                )
            }
            "/mot-de-passe" if method == Method::GET => format!("?jeton={}", "0".repeat(64)),
            "/api/v1/restaurants/{id}/headcounts" | "/api/v1/finance/invoices" => {
                "?from=2017-01-23&to=2017-01-27".to_string()
            }
            "/api/v1/finance/exports/{document}" | "/api/v1/finance/reconciliation" => {
                "?month=2017-01".to_string()
            }
            "/gestion/cuisine"
            | "/gestion/cuisine/{id}/export"
            | "/gestion/cuisine/{id}/appel.csv"
            | "/api/v1/restaurants/{id}/roll-call" => "?date=2017-01-23".to_string(),
            "/gestion/reservations/{id}/annulation" => format!("?famille={}", side.family_id),
            "/gestion/cuisine/appel" => {
                format!("?date=2017-01-23&restaurant={}", self.restaurant_id)
            }
            "/gestion/finances/prelevements/fichier" => {
                format!("?mois=2017-01&lot={}", Uuid::new_v4())
            }
            p if p.starts_with("/gestion/finances") => "?mois=2017-01".to_string(),
            _ => String::new(),
        };
        (format!("{path_with_ids}{query}"), body)
    }

    /// What must never reach the Dupont family: the Martin family's ids and names.
    fn martin_secrets(&self) -> Vec<String> {
        let m = &self.martin;
        vec![
            m.family_id.clone(),
            m.child_id.clone(),
            m.login.clone(),
            m.child_name.to_string(),
            m.to_read.clone(),
            m.to_confirm.clone(),
            m.to_cancel.clone(),
            m.to_pay.clone(),
            m.to_confirm_in_portal.clone(),
            m.to_cancel_in_portal.clone(),
        ]
    }

    /// What no kitchen, finance or auditor user reads: the families' ids, children and
    /// reservations (logins are not among them: the login log shows who tried to log in).
    fn family_secrets(&self) -> Vec<String> {
        let d = &self.dupont;
        let mut secrets = self.martin_secrets();
        secrets.retain(|s| *s != self.martin.login);
        secrets.extend([
            d.family_id.clone(),
            d.child_id.clone(),
            d.child_name.to_string(),
            d.to_read.clone(),
            d.to_confirm.clone(),
            d.to_cancel.clone(),
            d.to_pay.clone(),
            d.to_confirm_in_portal.clone(),
            d.to_cancel_in_portal.clone(),
        ]);
        secrets
    }

    /// A summary of everything a request could change (the login log aside, which records
    /// refused attempts on purpose).
    async fn stored_state(&self) -> String {
        let (digest,): (String,) = sqlx::query_as(
            "SELECT md5(concat_ws('|',
                (SELECT count(*) FROM events),
                (SELECT string_agg(id || name || capacity, ',' ORDER BY id) FROM restaurants),
                (SELECT string_agg(id || rules::text, ',' ORDER BY id) FROM periods),
                (SELECT string_agg(tariff_id::text || position::text || coalesce(up_to::text, '') || unit_price::text, ',' ORDER BY tariff_id, position) FROM tariff_brackets),
                (SELECT string_agg(id || name || coalesce(anonymised_at::text, '') || coalesce(quotient_familial::text, ''), ',' ORDER BY id) FROM families),
                (SELECT string_agg(id || first_name || last_name || meal_option, ',' ORDER BY id) FROM children),
                (SELECT string_agg(id || login || coalesce(password_hash, '') || coalesce(disabled_at::text, '')
                                   || coalesce(locked_at::text, '') || failed_logins, ',' ORDER BY id) FROM users),
                (SELECT string_agg(encode(token_hash, 'hex') || coalesce(revoked_at::text, ''), ',' ORDER BY token_hash) FROM sessions),
                (SELECT string_agg(id || status, ',' ORDER BY id) FROM payments),
                (SELECT count(*) FROM invoice_keys),
                (SELECT string_agg(restaurant_id || service || date || capacity || taken, ',' ORDER BY restaurant_id, service, date) FROM places),
                (SELECT string_agg(period_id || date::text || capacity, ',' ORDER BY period_id, date) FROM capacity_overrides),
                (SELECT string_agg(encode(token_hash, 'hex') || coalesce(used_at::text, ''), ',' ORDER BY token_hash) FROM password_links),
                (SELECT string_agg(id || coalesce(withdrawn_at::text, ''), ',' ORDER BY id) FROM documents)))",
        )
        .fetch_one(&self.app.pool)
        .await
        .unwrap();
        digest
    }
}

enum Body {
    None,
    Json(Value),
    Form(String),
    Multipart(Vec<u8>),
}

const BOUNDARY: &str = "matrice-boundary";

fn route_key(method: &Method, path: &str) -> (String, String) {
    (method.as_str().to_string(), path.to_string())
}

/// What the route's declared access implies, to catch a matrix row that contradicts it.
fn consistent(access: Access, row: &[u16; 8]) -> Result<(), String> {
    let staff = [
        (Who::Admin, Role::Admin),
        (Who::Kitchen, Role::Kitchen),
        (Who::Finance, Role::Finance),
        (Who::Auditor, Role::Auditor),
        (Who::Desk, Role::Desk),
    ];
    let at = |who: Who| row[WHO.iter().position(|w| *w == who).unwrap()];
    let refused = |s: u16| s == 401 || s == 403;
    if access.needs_session() && at(Who::Anonymous) != 401 {
        return Err("a route that needs a session answers 401 to anonymous callers".into());
    }
    for (who, role) in staff.into_iter().chain([
        (Who::FamilyOwn, Role::Family),
        (Who::FamilyOther, Role::Family),
    ]) {
        if access.needs_session() && access.allows(role) == refused(at(who)) {
            return Err(format!(
                "{who:?}: the route {} the {} role",
                if access.allows(role) {
                    "allows"
                } else {
                    "refuses"
                },
                role.as_str()
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn access_matrix_every_route_every_caller() {
    let table = routes::table();

    // Every route has a row, and each row agrees with the route's declared access.
    let missing: Vec<String> = table
        .iter()
        .filter(|r| expected(&r.method, r.path).is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the access matrix (tests/api/access_matrix.rs, fn expected): {missing:?}"
    );
    for r in &table {
        if let Err(e) = consistent(r.access, &expected(&r.method, r.path).unwrap()) {
            panic!(
                "{} {}: the matrix row contradicts the route table: {e}",
                r.method, r.path
            );
        }
    }

    // The OpenAPI document and the route table list the same routes (pages aside).
    let in_table: BTreeSet<(String, String)> =
        table.iter().map(|r| route_key(&r.method, r.path)).collect();
    let document =
        serde_json::to_value(<cantine::web::api::openapi::ApiDoc as utoipa::OpenApi>::openapi())
            .unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let undeclared: Vec<_> = documented.difference(&in_table).collect();
    assert!(
        undeclared.is_empty(),
        "documented routes missing from web/routes.rs: {undeclared:?}"
    );
    let pages: BTreeSet<(String, String)> = NOT_IN_OPENAPI
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = in_table
        .difference(&documented)
        .filter(|k| !pages.contains(*k))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );

    // Every cell, for real.
    let mut fixture = Fixture::new().await;
    let martin_secrets = fixture.martin_secrets();
    let family_secrets = fixture.family_secrets();
    let no_secrets: Vec<String> = Vec::new();
    // Everything of the families but the children's names.
    let kitchen_secrets: Vec<String> = family_secrets
        .iter()
        .filter(|s| **s != fixture.dupont.child_name && **s != fixture.martin.child_name)
        .cloned()
        .collect();
    let mut anonymous_secrets = family_secrets.clone();
    anonymous_secrets.extend([fixture.dupont.login.clone(), fixture.martin.login.clone()]);
    // Forms answer 303: the status that counts is the form's own, not the next page's.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let other_address = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let mut lines = vec![
        HEADER.to_string(),
        "|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut failures = Vec::new();
    let mut cells = 0;
    for route in &table {
        let want = expected(&route.method, route.path).unwrap();
        let mut got = Vec::new();
        for (i, who) in WHO.into_iter().enumerate() {
            let (path, body) = fixture.request(&route.method, route.path, who);
            let before = fixture.stored_state().await;
            // The API's row has spent most of this address's password e-mails for the hour: the
            // page's row comes from another address, so that its limit does not decide.
            let client = if route.path == "/connexion/mot-de-passe" {
                &other_address
            } else {
                &client
            };
            let mut request = client.request(
                route.method.clone(),
                format!("{}{}", fixture.app.address, path),
            );
            if who != Who::Anonymous {
                // The portal's pages take the session from the browser's cookie only.
                request = if route.access.is_page() {
                    request.header(
                        "cookie",
                        format!("{SESSION_COOKIE}={}", fixture.tokens[&who]),
                    )
                } else {
                    request.bearer_auth(&fixture.tokens[&who])
                };
            }
            if route.method == Method::POST
                && ["/connexion", "/connexion/mot-de-passe"].contains(&route.path)
            {
                request =
                    request.header("cookie", format!("{LOGIN_CSRF_COOKIE}={LOGIN_FORM_TOKEN}"));
            }
            request = match body {
                Body::None => request,
                Body::Json(value) => request.json(&value),
                Body::Form(text) => request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(text),
                Body::Multipart(text) => request
                    .header(
                        "content-type",
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(text),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            cells += 1;
            got.push(status);
            let cell = format!("{} {} as {who:?}", route.method, path);
            if status != want[i] {
                failures.push(format!("{cell}: {status}, expected {} ({text})", want[i]));
            }
            if status >= 400 && fixture.stored_state().await != before {
                failures.push(format!(
                    "{cell}: refused with {status} but changed stored data"
                ));
            }
            let secrets = match who {
                Who::FamilyOwn | Who::FamilyOther => &martin_secrets,
                Who::Anonymous => &anonymous_secrets,
                // Reading the log is the auditors' job, and invoices' recipients finance's.
                Who::Auditor
                    if route.path == "/api/v1/audit/events"
                        || route.path.starts_with("/gestion/audit") =>
                {
                    &no_secrets
                }
                Who::Finance
                    if route.path.starts_with("/api/v1/finance/")
                        || route.path.starts_with("/gestion/finances") =>
                {
                    &no_secrets
                }
                // The roll call names the children to serve: the kitchen's job. (It names
                // them only: no ids, no logins, no money.)
                Who::Kitchen
                    if route.path.ends_with("/roll-call")
                        || route.path.starts_with("/gestion/cuisine/appel")
                        || route.path.ends_with("/appel.csv") =>
                {
                    &kitchen_secrets
                }
                // The desk reads families' files and acts for them, as the admins.
                Who::Desk => &no_secrets,
                Who::Kitchen | Who::Finance | Who::Auditor => &family_secrets,
                Who::Admin => &no_secrets,
            };
            for secret in secrets.iter() {
                if text.contains(secret.as_str()) {
                    failures.push(format!("{cell}: LEAK of {secret:?} in {text}"));
                }
            }
            if status < 400 && ends_session(&route.method, route.path) {
                fixture.log_in_again(who).await;
            }
        }
        let row: Vec<String> = got
            .iter()
            .zip(want)
            .map(|(g, w)| {
                if *g == w {
                    g.to_string()
                } else {
                    format!("**{g}≠{w}**")
                }
            })
            .collect();
        lines.push(format!(
            "| {} {} | {} | {} |",
            route.method,
            route.path,
            route.access.describe(),
            row.join(" | ")
        ));
    }
    let matrix = lines.join("\n");
    println!("{matrix}\n\n{cells} requests, {} failures", failures.len());
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("access-matrix.md");
    std::fs::write(&out, format!("{matrix}\n")).unwrap();
    assert!(
        failures.is_empty(),
        "{} failing cells:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, table.len() * WHO.len());
}
