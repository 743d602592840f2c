//! The route table: every route of the service, with who may call it. The router is built from
//! this table only, so a route cannot exist without declaring its [`Access`].
//!
//! To add a route:
//! 1. add one line below: `route(Method::GET, "/api/v1/...", Access::Staff(&[Role::Kitchen, Role::Admin]), handler)`;
//!    `Access::Family` for a family's own data (the handler takes the family from
//!    `caller.family()`, never from the request, and answers 404 for another family's ids);
//!    `Access::Portal` for a family portal page (`src/web/portal`): the session comes from the
//!    browser's cookie and every POST must carry the session's CSRF token;
//!    `Access::BackOffice(roles)` for a staff page (`src/web/backoffice`), the same with staff roles;
//! 2. annotate the handler with `#[utoipa::path]` and list it in `openapi.rs` (HTML pages excepted);
//! 3. add its row to the access matrix test (`tests/api/access_matrix.rs`): the test fails for a
//!    route of this table, or of the OpenAPI document, that has no row there.
//!
//! The guard (`access.rs`) answers 401 without a valid session and 403 for a role the route
//! does not allow, before the handler runs.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use super::access::{
    self, Access, ADMIN_ROLES, FINANCE_ROLES, FRONT_DESK_ROLES, KITCHEN_ROLES, STAFF_ROLES,
};
use super::api::{
    account, admin, audit, auth, closures, documents, family, finance, kitchen, ledger, month_end,
    on_behalf, openapi, operations, password, payments, reservations, roll_call, sepa,
    staff_accounts, tariffs, waitlist,
};
use super::idempotency;
use super::observability;
use super::{backoffice, pages, portal};
use crate::app::Cantine;
use crate::domain::account::Role;

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<Cantine>,
}

fn route<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> Route
where
    H: Handler<T, Cantine>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
    Route {
        method,
        path,
        access,
        handler: on(filter, handler),
    }
}

const ADMIN: Access = Access::Staff(ADMIN_ROLES);
const KITCHEN: Access = Access::Staff(KITCHEN_ROLES);
const FINANCE: Access = Access::Staff(FINANCE_ROLES);
const AUDITOR: Access = Access::Staff(&[Role::Auditor]);
const LOGIN_LOG_READERS: Access = Access::Staff(&[Role::Admin, Role::Auditor]);
/// The back office's pages mirror the API's roles (the same role lists, `access.rs`).
const STAFF_PAGE: Access = Access::BackOffice(STAFF_ROLES);
const KITCHEN_PAGE: Access = Access::BackOffice(KITCHEN_ROLES);
const FINANCE_PAGE: Access = Access::BackOffice(FINANCE_ROLES);
const ADMIN_PAGE: Access = Access::BackOffice(ADMIN_ROLES);
const FRONT_DESK: Access = Access::Staff(FRONT_DESK_ROLES);
const FRONT_DESK_PAGE: Access = Access::BackOffice(FRONT_DESK_ROLES);
const AUDITOR_PAGE: Access = Access::BackOffice(&[Role::Auditor]);
/// Families hand their signed SEPA mandates to the finance office or the town hall.
const MANDATES: Access = Access::Staff(&[Role::Finance, Role::Admin]);
/// The quotient familial comes from the family's papers, which the finance office also handles.
const QUOTIENT_SETTERS: Access = Access::Staff(&[Role::Admin, Role::Finance]);

pub fn table() -> Vec<Route> {
    use Access::{AnyUser, Family, Portal, Proof, Public};
    vec![
        route(Method::GET, "/health", Public, super::health),
        route(Method::GET, "/ready", Public, observability::ready),
        // Its own check: the metrics token (or its own listener, where this route is absent).
        route(
            Method::GET,
            "/metrics",
            Public,
            observability::metrics_with_token,
        ),
        route(
            Method::GET,
            "/api/v1/openapi.json",
            Public,
            openapi::document,
        ),
        // Logins and passwords
        route(Method::POST, "/api/v1/auth/login", Public, auth::login),
        route(Method::POST, "/api/v1/auth/logout", AnyUser, auth::logout),
        route(
            Method::POST,
            "/api/v1/auth/password-email",
            Public,
            password::request_email,
        ),
        route(
            Method::POST,
            "/api/v1/auth/password",
            Public,
            password::set_with_link,
        ),
        route(
            Method::GET,
            pages::password::LINK_PATH,
            Public,
            pages::password::link_page,
        ),
        route(
            Method::POST,
            pages::password::LINK_PATH,
            Public,
            pages::password::link_submit,
        ),
        route(
            Method::POST,
            "/api/v1/account/password",
            AnyUser,
            account::change_password,
        ),
        route(
            Method::POST,
            "/api/v1/account/login",
            AnyUser,
            account::change_login,
        ),
        // Town staff
        route(
            Method::POST,
            "/api/v1/admin/restaurants",
            ADMIN,
            admin::create_restaurant,
        ),
        route(
            Method::POST,
            "/api/v1/admin/periods",
            ADMIN,
            admin::create_period,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families",
            ADMIN,
            admin::create_family,
        ),
        route(
            Method::GET,
            "/api/v1/admin/families/{id}",
            ADMIN,
            staff_accounts::show,
        ),
        route(
            Method::PATCH,
            "/api/v1/admin/families/{id}",
            ADMIN,
            staff_accounts::edit,
        ),
        // The front desk acts for a family: the family's own use cases, staff as the actor.
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/reservations",
            FRONT_DESK,
            on_behalf::book,
        ),
        route(
            Method::POST,
            "/api/v1/admin/reservations/{id}/cancel",
            FRONT_DESK,
            on_behalf::cancel,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/disable",
            ADMIN,
            staff_accounts::disable,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/enable",
            ADMIN,
            staff_accounts::enable,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/unlock",
            ADMIN,
            staff_accounts::unlock,
        ),
        route(
            Method::POST,
            "/api/v1/admin/staff/unlock",
            ADMIN,
            staff_accounts::unlock_staff,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/password-email",
            ADMIN,
            staff_accounts::send_password_email,
        ),
        route(
            Method::POST,
            "/api/v1/admin/families/{id}/children",
            ADMIN,
            admin::create_child,
        ),
        route(
            Method::PATCH,
            "/api/v1/admin/restaurants/{id}",
            ADMIN,
            admin::edit_restaurant,
        ),
        route(
            Method::PATCH,
            "/api/v1/admin/families/{id}/children/{child_id}",
            ADMIN,
            admin::edit_child,
        ),
        route(
            Method::POST,
            "/api/v1/admin/clock",
            ADMIN,
            admin::advance_clock,
        ),
        route(
            Method::PUT,
            "/api/v1/admin/periods/{id}/capacity",
            ADMIN,
            admin::set_capacity,
        ),
        route(
            Method::PUT,
            "/api/v1/admin/periods/{id}/closures",
            ADMIN,
            closures::replace,
        ),
        route(
            Method::POST,
            "/api/v1/admin/periods/{id}/tariffs",
            ADMIN,
            tariffs::create,
        ),
        route(
            Method::GET,
            "/api/v1/admin/periods/{id}/tariffs",
            ADMIN,
            tariffs::list,
        ),
        route(
            Method::PUT,
            "/api/v1/admin/families/{id}/quotient",
            QUOTIENT_SETTERS,
            tariffs::set_quotient,
        ),
        route(
            Method::DELETE,
            "/api/v1/admin/documents/{id}",
            ADMIN,
            documents::withdraw,
        ),
        route(
            Method::GET,
            "/api/v1/admin/projections",
            ADMIN,
            operations::projections,
        ),
        route(Method::GET, "/api/v1/admin/mail", ADMIN, operations::mail),
        route(
            Method::GET,
            "/api/v1/audit/logins",
            LOGIN_LOG_READERS,
            staff_accounts::login_log,
        ),
        // Kitchens, finance, auditors
        route(
            Method::GET,
            "/api/v1/restaurants/{id}/headcounts",
            KITCHEN,
            kitchen::headcounts,
        ),
        route(
            Method::GET,
            "/api/v1/restaurants/{id}/roll-call",
            KITCHEN,
            roll_call::roll_call,
        ),
        route(
            Method::GET,
            "/api/v1/finance/invoices",
            FINANCE,
            finance::invoices,
        ),
        route(
            Method::GET,
            "/api/v1/finance/exports/{document}",
            FINANCE,
            month_end::export,
        ),
        route(
            Method::GET,
            "/api/v1/finance/reconciliation",
            FINANCE,
            month_end::reconciliation,
        ),
        route(
            Method::GET,
            "/api/v1/finance/debtors",
            FINANCE,
            finance::debtors,
        ),
        route(
            Method::POST,
            "/api/v1/finance/payments",
            FINANCE,
            finance::record_payment,
        ),
        route(
            Method::POST,
            "/api/v1/finance/payments/{id}/reversal",
            FINANCE,
            finance::reverse_payment,
        ),
        route(
            Method::POST,
            "/api/v1/finance/refunds",
            FINANCE,
            finance::refund,
        ),
        route(
            Method::GET,
            "/api/v1/finance/creditor",
            FINANCE,
            sepa::creditor,
        ),
        route(
            Method::PUT,
            "/api/v1/finance/creditor",
            FINANCE,
            sepa::set_creditor,
        ),
        route(
            Method::POST,
            "/api/v1/finance/mandates",
            MANDATES,
            sepa::sign_mandate,
        ),
        route(
            Method::GET,
            "/api/v1/finance/families/{id}/mandates",
            MANDATES,
            sepa::family_mandates,
        ),
        route(
            Method::POST,
            "/api/v1/finance/mandates/{id}/revocation",
            MANDATES,
            sepa::revoke_mandate,
        ),
        route(
            Method::GET,
            "/api/v1/finance/sepa/{month}",
            FINANCE,
            sepa::month_file,
        ),
        route(
            Method::POST,
            "/api/v1/finance/sepa-rejections",
            FINANCE,
            sepa::reject,
        ),
        route(
            Method::POST,
            "/api/v1/finance/sepa-rejections/file",
            FINANCE,
            sepa::reject_file,
        ),
        route(Method::GET, "/api/v1/audit/events", AUDITOR, audit::events),
        // Families
        route(Method::GET, "/api/v1/family", Family, family::family),
        route(
            Method::GET,
            "/api/v1/establishments",
            Family,
            family::establishments,
        ),
        route(
            Method::GET,
            "/api/v1/children/{child_id}/calendar",
            Family,
            family::calendar,
        ),
        route(
            Method::POST,
            "/api/v1/reservations",
            Family,
            reservations::create,
        ),
        route(
            Method::GET,
            "/api/v1/reservations",
            Family,
            reservations::list,
        ),
        route(
            Method::GET,
            "/api/v1/reservations/{id}",
            Family,
            reservations::detail,
        ),
        route(
            Method::POST,
            "/api/v1/reservations/{id}/confirm",
            Family,
            reservations::confirm,
        ),
        route(
            Method::POST,
            "/api/v1/reservations/{id}/cancel",
            Family,
            reservations::cancel,
        ),
        route(Method::POST, "/api/v1/waitlist", Family, waitlist::join),
        route(Method::GET, "/api/v1/waitlist", Family, waitlist::list),
        route(
            Method::DELETE,
            "/api/v1/waitlist/{child_id}/{date}",
            Family,
            waitlist::leave,
        ),
        route(Method::GET, "/api/v1/cart", Family, payments::cart),
        route(Method::POST, "/api/v1/payments", Family, payments::create),
        route(Method::GET, "/api/v1/payments/{id}", Family, payments::show),
        route(Method::GET, "/api/v1/invoices", Family, payments::invoices),
        route(Method::GET, "/api/v1/ledger", Family, ledger::ledger),
        route(Method::GET, "/api/v1/documents", Family, documents::list),
        route(
            Method::GET,
            "/api/v1/documents/{id}",
            Family,
            documents::download,
        ),
        // The family portal's pages (`src/web/portal`): a cookie session, CSRF on every form
        route(
            Method::GET,
            "/portail.css",
            Public,
            pages::assets::stylesheet,
        ),
        route(Method::GET, "/connexion", Public, pages::login::page_get),
        route(
            Method::GET,
            "/documents-publics/{id}",
            Public,
            pages::login::public_document,
        ),
        route(Method::GET, pages::login::LOGO, Public, pages::login::logo),
        route(Method::POST, "/connexion", Public, pages::login::submit),
        route(
            Method::GET,
            "/connexion/mot-de-passe",
            Public,
            pages::password::page_get,
        ),
        route(
            Method::POST,
            "/connexion/mot-de-passe",
            Public,
            pages::password::submit,
        ),
        route(Method::POST, "/deconnexion", Portal, pages::login::logout),
        route(Method::GET, "/", Portal, portal::home::page_get),
        route(
            Method::GET,
            "/reservation/nouvelle",
            Portal,
            portal::booking::page_get,
        ),
        route(
            Method::GET,
            "/reservation/calendrier",
            Portal,
            portal::calendar::page_get,
        ),
        route(
            Method::POST,
            "/reservation/calendrier",
            Portal,
            portal::calendar::submit,
        ),
        route(
            Method::GET,
            "/reservations/{id}",
            Portal,
            portal::reservation::page_get,
        ),
        route(
            Method::POST,
            "/reservations/{id}/confirmer",
            Portal,
            portal::reservation::confirm,
        ),
        route(
            Method::GET,
            "/reservations/{id}/annuler",
            Portal,
            portal::reservation::cancel_page,
        ),
        route(
            Method::POST,
            "/reservations/{id}/annuler",
            Portal,
            portal::reservation::cancel,
        ),
        route(
            Method::GET,
            portal::waitlist::PATH,
            Portal,
            portal::waitlist::page_get,
        ),
        route(
            Method::POST,
            portal::waitlist::PATH,
            Portal,
            portal::waitlist::join,
        ),
        route(
            Method::POST,
            "/liste-attente/quitter",
            Portal,
            portal::waitlist::leave,
        ),
        route(Method::GET, "/panier", Portal, portal::cart::page_get),
        route(Method::POST, "/panier/paiement", Portal, portal::cart::pay),
        route(
            Method::GET,
            "/paiements/{id}",
            Portal,
            portal::cart::payment_page,
        ),
        route(
            Method::GET,
            "/historique",
            Portal,
            portal::history::page_get,
        ),
        route(Method::GET, "/factures", Portal, portal::invoices::page_get),
        route(Method::GET, "/compte", Portal, portal::account::page_get),
        route(
            Method::GET,
            "/documents",
            Portal,
            portal::documents::page_get,
        ),
        route(
            Method::GET,
            "/documents/{id}",
            Portal,
            portal::documents::download,
        ),
        route(
            Method::POST,
            "/compte/mot-de-passe",
            Portal,
            portal::account::change_password,
        ),
        route(
            Method::POST,
            "/compte/identifiant",
            Portal,
            portal::account::change_login,
        ),
        route(
            Method::POST,
            "/compte/famille",
            Portal,
            portal::account::change_contact,
        ),
        route(
            Method::POST,
            "/compte/courriels",
            Portal,
            portal::account::change_mail_choices,
        ),
        // The family portal, second guide: cancelling from the calendar, printable invoices and
        // credit notes, the ledger.
        route(
            Method::GET,
            "/reservation/recapitulatif",
            Portal,
            portal::changes::recap,
        ),
        route(
            Method::POST,
            "/reservation/recapitulatif",
            Portal,
            portal::changes::confirm,
        ),
        route(
            Method::GET,
            "/reservation/bilan",
            Portal,
            portal::changes::result,
        ),
        route(
            Method::GET,
            "/factures/{id}",
            Portal,
            portal::invoice::page_get,
        ),
        route(
            Method::POST,
            "/factures/{id}/paiement",
            Portal,
            portal::invoice::pay,
        ),
        route(
            Method::GET,
            "/compte/releve",
            Portal,
            portal::ledger::page_get,
        ),
        // The staff back office (`src/web/backoffice`): a cookie session, CSRF on every form
        route(
            Method::GET,
            "/gestion",
            STAFF_PAGE,
            backoffice::home::page_get,
        ),
        route(
            Method::POST,
            "/gestion/deconnexion",
            STAFF_PAGE,
            pages::login::logout,
        ),
        route(
            Method::GET,
            "/gestion/cuisine",
            KITCHEN_PAGE,
            backoffice::kitchen::page_get,
        ),
        route(
            Method::GET,
            backoffice::waitlist::PATH,
            KITCHEN_PAGE,
            backoffice::waitlist::page_get,
        ),
        route(
            Method::GET,
            "/gestion/cuisine/{id}/export",
            KITCHEN_PAGE,
            backoffice::kitchen::export,
        ),
        route(
            Method::GET,
            "/gestion/cuisine/appel",
            KITCHEN_PAGE,
            backoffice::roll_call::page_get,
        ),
        route(
            Method::GET,
            "/gestion/cuisine/{id}/appel.csv",
            KITCHEN_PAGE,
            backoffice::roll_call::csv,
        ),
        route(
            Method::GET,
            "/gestion/finances",
            FINANCE_PAGE,
            backoffice::finance::summary,
        ),
        route(
            Method::GET,
            "/gestion/finances/factures",
            FINANCE_PAGE,
            backoffice::finance::invoices,
        ),
        route(
            Method::GET,
            "/gestion/finances/paiements",
            FINANCE_PAGE,
            backoffice::finance::payments,
        ),
        route(
            Method::GET,
            backoffice::debtors::PATH,
            FINANCE_PAGE,
            backoffice::debtors::page_get,
        ),
        route(
            Method::GET,
            backoffice::debtors::EXPORT,
            FINANCE_PAGE,
            backoffice::debtors::export,
        ),
        route(
            Method::POST,
            backoffice::debtors::RECORD,
            FINANCE_PAGE,
            backoffice::debtors::record,
        ),
        route(
            Method::GET,
            "/gestion/finances/remboursements",
            FINANCE_PAGE,
            backoffice::refunds::page_get,
        ),
        route(
            Method::POST,
            "/gestion/finances/remboursements",
            FINANCE_PAGE,
            backoffice::refunds::record,
        ),
        route(
            Method::GET,
            "/gestion/finances/prelevements",
            FINANCE_PAGE,
            backoffice::sepa::page_get,
        ),
        route(
            Method::POST,
            "/gestion/finances/prelevements/creancier",
            FINANCE_PAGE,
            backoffice::sepa::set_creditor,
        ),
        route(
            Method::POST,
            "/gestion/finances/prelevements/mandats",
            FINANCE_PAGE,
            backoffice::sepa::sign_mandate,
        ),
        route(
            Method::POST,
            "/gestion/finances/prelevements/mandats/{id}/revocation",
            FINANCE_PAGE,
            backoffice::sepa::revoke_mandate,
        ),
        route(
            Method::POST,
            "/gestion/finances/prelevements/lot",
            FINANCE_PAGE,
            backoffice::sepa::prepare_batch,
        ),
        route(
            Method::GET,
            "/gestion/finances/prelevements/fichier",
            FINANCE_PAGE,
            backoffice::sepa::download,
        ),
        route(
            Method::POST,
            "/gestion/finances/prelevements/rejets",
            FINANCE_PAGE,
            backoffice::sepa::reject,
        ),
        route(
            Method::GET,
            "/gestion/finances/exports/{document}",
            FINANCE_PAGE,
            backoffice::finance::export,
        ),
        route(
            Method::GET,
            "/gestion/documents",
            ADMIN_PAGE,
            backoffice::documents::page_get,
        ),
        route(
            Method::POST,
            "/gestion/documents",
            ADMIN_PAGE,
            backoffice::documents::upload,
        ),
        route(
            Method::GET,
            "/gestion/documents/{id}",
            ADMIN_PAGE,
            backoffice::documents::download,
        ),
        route(
            Method::POST,
            "/gestion/documents/{id}/retrait",
            ADMIN_PAGE,
            backoffice::documents::withdraw,
        ),
        // The administrators' pages (`src/web/backoffice/admin`): the API's admin roles
        route(
            Method::GET,
            "/gestion/familles",
            FRONT_DESK_PAGE,
            backoffice::admin::families::list,
        ),
        route(
            Method::POST,
            "/gestion/familles",
            ADMIN_PAGE,
            backoffice::admin::families::create,
        ),
        route(
            Method::GET,
            "/gestion/familles/{id}",
            ADMIN_PAGE,
            backoffice::admin::family::show,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}",
            ADMIN_PAGE,
            backoffice::admin::family::edit,
        ),
        route(
            Method::GET,
            "/gestion/familles/{id}/dossier",
            FRONT_DESK_PAGE,
            backoffice::admin::family_file::show,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/dossier/reservation",
            FRONT_DESK_PAGE,
            backoffice::admin::family_file::book,
        ),
        route(
            Method::POST,
            "/gestion/reservations/{id}/annulation",
            FRONT_DESK_PAGE,
            backoffice::admin::family_file::cancel,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/deverrouillage",
            ADMIN_PAGE,
            backoffice::admin::family::unlock,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/mot-de-passe",
            ADMIN_PAGE,
            backoffice::admin::family::password_email,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/desactivation",
            ADMIN_PAGE,
            backoffice::admin::family::disable,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/activation",
            ADMIN_PAGE,
            backoffice::admin::family::enable,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/enfants",
            ADMIN_PAGE,
            backoffice::admin::children::create,
        ),
        route(
            Method::POST,
            "/gestion/familles/{id}/enfants/{child_id}",
            ADMIN_PAGE,
            backoffice::admin::children::edit,
        ),
        // The auditors' pages: read-only, but for starting a verification (a job).
        route(
            Method::GET,
            "/gestion/audit",
            AUDITOR_PAGE,
            backoffice::audit::home,
        ),
        route(
            Method::POST,
            "/gestion/audit/verification",
            AUDITOR_PAGE,
            backoffice::audit::start_verification,
        ),
        route(
            Method::GET,
            "/gestion/audit/evenements",
            AUDITOR_PAGE,
            backoffice::audit::events,
        ),
        route(
            Method::GET,
            "/gestion/audit/connexions",
            AUDITOR_PAGE,
            backoffice::audit::logins,
        ),
        route(
            Method::GET,
            "/gestion/mon-compte",
            STAFF_PAGE,
            backoffice::own_account::show,
        ),
        route(
            Method::POST,
            "/gestion/mon-compte",
            STAFF_PAGE,
            backoffice::own_account::change_password,
        ),
        route(
            Method::GET,
            "/gestion/personnel",
            ADMIN_PAGE,
            backoffice::admin::staff::list,
        ),
        route(
            Method::POST,
            "/gestion/personnel/{id}/deverrouillage",
            ADMIN_PAGE,
            backoffice::admin::staff::unlock,
        ),
        route(
            Method::POST,
            "/gestion/personnel/{id}/mot-de-passe",
            ADMIN_PAGE,
            backoffice::admin::staff::reset_password,
        ),
        route(
            Method::GET,
            "/gestion/commune",
            ADMIN_PAGE,
            backoffice::admin::town::show,
        ),
        route(
            Method::POST,
            "/gestion/commune",
            ADMIN_PAGE,
            backoffice::admin::town::edit,
        ),
        route(
            Method::POST,
            backoffice::admin::town::LOGO_PATH,
            ADMIN_PAGE,
            backoffice::admin::town::upload_logo,
        ),
        route(
            Method::POST,
            backoffice::admin::town::LOGO_REMOVE_PATH,
            ADMIN_PAGE,
            backoffice::admin::town::remove_logo,
        ),
        route(
            Method::GET,
            "/gestion/restaurants",
            ADMIN_PAGE,
            backoffice::admin::restaurants::list,
        ),
        route(
            Method::POST,
            "/gestion/restaurants",
            ADMIN_PAGE,
            backoffice::admin::restaurants::create,
        ),
        route(
            Method::GET,
            "/gestion/restaurants/{id}",
            ADMIN_PAGE,
            backoffice::admin::restaurants::show,
        ),
        route(
            Method::POST,
            "/gestion/restaurants/{id}",
            ADMIN_PAGE,
            backoffice::admin::restaurants::edit,
        ),
        route(
            Method::GET,
            "/gestion/periodes",
            ADMIN_PAGE,
            backoffice::admin::periods::list,
        ),
        route(
            Method::POST,
            "/gestion/periodes",
            ADMIN_PAGE,
            backoffice::admin::new_period::create,
        ),
        route(
            Method::GET,
            "/gestion/periodes/{id}",
            ADMIN_PAGE,
            backoffice::admin::periods::show,
        ),
        route(
            Method::POST,
            "/gestion/periodes/{id}/fermetures",
            ADMIN_PAGE,
            backoffice::admin::periods::set_closures,
        ),
        route(
            Method::POST,
            "/gestion/periodes/{id}/capacite",
            ADMIN_PAGE,
            backoffice::admin::periods::set_capacity,
        ),
        route(
            Method::POST,
            "/gestion/periodes/{id}/tarifs",
            ADMIN_PAGE,
            backoffice::admin::prices::add_tariff,
        ),
        // The payment provider and the built-in payment simulator
        route(
            Method::POST,
            "/api/v1/payments/{id}/notify",
            Proof,
            payments::notify,
        ),
        route(
            Method::GET,
            "/api/v1/payments/{id}/checkout",
            Proof,
            portal::payment_simulator::checkout_page,
        ),
        route(
            Method::POST,
            "/api/v1/payments/{id}/checkout",
            Proof,
            portal::payment_simulator::checkout_submit,
        ),
    ]
}

/// The routes of the table, each behind its guard; POST routes also take an `Idempotency-Key`
/// (`idempotency.rs`), checked after the guard so that only callers the route admits can use
/// or replay a key. Portal forms do not: browsers send no such header, the pages redirect after
/// every form instead, and the key's scope (the `Authorization` header) does not name a cookie
/// session.
pub fn build(state: &Cantine) -> Router<Cantine> {
    table().into_iter().fold(Router::new(), |router, r| {
        let guard = from_fn_with_state((state.clone(), r.access), access::guard);
        let handler = if idempotency::applies_to(&r.method, r.path) && !r.access.is_page() {
            r.handler
                .route_layer(from_fn_with_state(state.clone(), idempotency::layer))
        } else {
            r.handler
        };
        // Back-office forms may carry an upload: the guard bounds their bodies instead
        // (`pages::guard::UPLOAD_BODY_LIMIT`), and the handlers' extractors must accept as much.
        let handler = if matches!(r.access, Access::BackOffice(_)) {
            handler.route_layer(DefaultBodyLimit::max(pages::guard::UPLOAD_BODY_LIMIT))
        } else {
            handler
        };
        router.route(r.path, handler.route_layer(guard))
    })
}
