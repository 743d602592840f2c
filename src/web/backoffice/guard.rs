//! `Access::BackOffice(roles)`: a staff session of one of these roles from the browser's cookie,
//! CSRF on every POST (the pages' shared guard, `pages::guard::admit_if`); a family, or a staff
//! member of another role, gets a French "Accès refusé" page pointing back to their own space.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;

use super::layout::error_page;
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::pages::error::error_page_with_link;
use crate::web::pages::guard::admit_if;

pub async fn admit(
    state: &Cantine,
    roles: &'static [Role],
    request: Request,
) -> Result<Request, Response> {
    admit_if(state, request, super::HOME, |caller| {
        if caller.role == Role::Family {
            Some(error_page_with_link(
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "L'espace de gestion est réservé au personnel de la ville.",
                ("/", "Retour à l'accueil du portail famille"),
            ))
        } else if roles.contains(&caller.role) {
            None
        } else {
            Some(error_page(
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Cette page n'est pas ouverte à votre rôle.",
            ))
        }
    })
    .await
}
