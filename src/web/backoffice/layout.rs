//! The frame of every back-office page: the portal's frame and headers (`pages::layout`),
//! its own title, a navigation that offers only the sections of the user's role, and the logout
//! form. Printing hides the frame and keeps the page's content (`@media print` in the sheet).

use axum::http::StatusCode;
use axum::response::Response;
use maud::Markup;

use super::{role_label, sections_for, HOME};
use crate::domain::account::Role;
use crate::web::pages::layout::{frame, refusal_page, Menu, Site};

pub const LOGOUT: &str = "/gestion/deconnexion";

/// What the navigation needs of a logged-in staff member.
pub struct Nav<'a> {
    pub login: &'a str,
    pub role: Role,
    pub csrf: &'a str,
    /// The path of the section this page belongs to, to mark its link `aria-current`.
    pub current: &'a str,
}

pub const BACK_OFFICE: Site = Site {
    name: "Espace de gestion",
    body_class: Some("backoffice"),
    menu_label: "Menu de gestion",
    logout: LOGOUT,
};

/// A back-office page: the menu offers only the sections of the user's role.
pub fn page(title: &str, nav: Option<&Nav>, content: Markup) -> Markup {
    let menu = nav.map(|nav| Menu {
        links: sections_for(nav.role)
            .map(|section| (section.path, section.label))
            .collect(),
        current: nav.current,
        csrf: nav.csrf,
        who: format!("{} ({})", nav.login, role_label(nav.role)),
    });
    frame(&BACK_OFFICE, title, menu.as_ref(), content)
}

/// A refusal or failure inside the back office, with the way back to its home.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    refusal_page(
        &BACK_OFFICE,
        status,
        title,
        message,
        (HOME, "Retour à l'accueil de l'espace de gestion"),
    )
}
