//! The frame of every portal page: language, title, skip link, navigation, the logout form, and
//! the answer's headers (its own CSP: the stylesheet is a file of this service).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::session::CSRF_FIELD;

/// Stricter than a general page: nothing inline, nothing from elsewhere.
const PORTAL_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the navigation needs of a logged-in family.
pub struct Nav<'a> {
    pub family_name: &'a str,
    pub csrf: &'a str,
    /// The path of the page, to mark its link `aria-current`.
    pub current: &'a str,
}

const LINKS: [(&str, &str); 6] = [
    ("/", "Accueil"),
    ("/reservation/nouvelle", "Nouvelle réservation"),
    ("/panier", "Mon panier"),
    ("/historique", "Mes réservations"),
    ("/factures", "Mes factures"),
    ("/compte", "Mon compte"),
];

pub fn page(title: &str, nav: Option<&Nav>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Portail famille" }
                link rel="stylesheet" href=(super::assets::CSS_PATH);
            }
            body {
                a class="skip" href="#contenu" { "Aller au contenu" }
                header class="site" {
                    p class="brand" { "Restauration scolaire – Portail famille" }
                    @if let Some(nav) = nav {
                        nav aria-label="Menu principal" {
                            ul {
                                @for (href, label) in LINKS {
                                    li {
                                        @if nav.current == href {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        form class="logout" method="post" action="/deconnexion" {
                            input type="hidden" name=(CSRF_FIELD) value=(nav.csrf);
                            span { (nav.family_name) }
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

/// A page as an answer, with the portal's headers.
pub fn render(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PORTAL_CSP),
    );
    response
}

pub fn ok(markup: Markup) -> Response {
    render(StatusCode::OK, markup)
}

/// After a form: the browser loads the next page with GET, so a reload posts nothing twice.
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// The CSRF field of a form.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(csrf); }
}
