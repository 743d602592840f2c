//! The frame of every back-office page: the portal's stylesheet and headers (`portal::layout`),
//! its own title, a navigation that offers only the sections of the user's role, and the logout
//! form. Printing hides the frame and keeps the page's content (`@media print` in the sheet).

use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, DOCTYPE};

use super::{role_label, sections_for, HOME};
use crate::domain::account::Role;
use crate::web::pages::layout::render;
use crate::web::pages::session::CSRF_FIELD;

pub const LOGOUT: &str = "/gestion/deconnexion";

/// What the navigation needs of a logged-in staff member.
pub struct Nav<'a> {
    pub login: &'a str,
    pub role: Role,
    pub csrf: &'a str,
    /// The path of the section this page belongs to, to mark its link `aria-current`.
    pub current: &'a str,
}

pub fn page(title: &str, nav: Option<&Nav>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Espace de gestion" }
                link rel="stylesheet" href=(crate::web::pages::assets::CSS_PATH);
            }
            body class="backoffice" {
                a class="skip" href="#contenu" { "Aller au contenu" }
                header class="site" {
                    p class="brand" { "Restauration scolaire – Espace de gestion" }
                    @if let Some(nav) = nav {
                        nav aria-label="Menu de gestion" {
                            ul {
                                @for section in sections_for(nav.role) {
                                    li {
                                        @if nav.current == section.path {
                                            a href=(section.path) aria-current="page" { (section.label) }
                                        } @else {
                                            a href=(section.path) { (section.label) }
                                        }
                                    }
                                }
                            }
                        }
                        form class="logout" method="post" action=(LOGOUT) {
                            input type="hidden" name=(CSRF_FIELD) value=(nav.csrf);
                            span { (nav.login) " (" (role_label(nav.role)) ")" }
                            " "
                            button type="submit" { "Déconnexion" }
                        }
                    }
                }
                main id="contenu" tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A refusal or failure inside the back office, with the way back to its home.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        page(
            title,
            None,
            html! {
                p role="alert" { (message) }
                p { a href=(HOME) { "Retour à l'accueil de l'espace de gestion" } }
            },
        ),
    )
}
