//! The family portal: server-rendered French pages (maud) for the first guide's flow, served by
//! the same binary as the API. Handlers here render; what they show and do comes from the same
//! use cases the API calls (`crate::app`), so the portal and the API cannot disagree. Routes are
//! declared in `web/routes.rs` with `Access::Portal` (cookie session, CSRF on POST, checked in
//! `pages/guard.rs`).

pub mod account;
pub mod booking;
pub mod calendar;
pub mod cart;
pub mod changes;
pub mod context;
pub mod documents;
pub mod history;
pub mod home;
pub mod invoice;
pub mod invoices;
pub mod ledger;
pub mod payment_simulator;
pub mod reservation;
pub mod waitlist;

/// The portal's "Page introuvable" with its menu, for a family whose session the cookie names;
/// `None` otherwise (the page without a menu is for everyone else).
pub async fn not_found_for_family(
    state: &crate::app::Cantine,
    headers: &axum::http::HeaderMap,
) -> Option<axum::response::Response> {
    use crate::web::pages::session::{cookie, SESSION_COOKIE};
    let token = cookie(headers, SESSION_COOKIE)?;
    let request_id = crate::web::extract::request_id_of(headers);
    let caller = crate::app::accounts::sessions::caller_of_session(state, token, request_id)
        .await
        .ok()??;
    if caller.role != crate::domain::account::Role::Family {
        return None;
    }
    let context = context::Context::load(state, &caller, "").await.ok()?;
    let content = maud::html! {
        p role="alert" { "Cette page n'existe pas. Vérifiez l'adresse, ou repartez de l'accueil du portail." }
        p { a href="/" { "Retour à l'accueil du portail" } }
    };
    Some(crate::web::pages::layout::render(
        axum::http::StatusCode::NOT_FOUND,
        crate::web::pages::layout::page("Page introuvable", Some(&context.nav()), content),
    ))
}
