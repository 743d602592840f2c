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

/// One side of the site: the family portal or the staff back office. Both share one frame, so
/// that their pages differ only in these words and in their menu.
pub struct Site {
    /// After the page's title and in the banner: "Portail famille".
    pub name: &'static str,
    pub body_class: Option<&'static str>,
    pub menu_label: &'static str,
    pub logout: &'static str,
}

pub const PORTAL: Site = Site {
    name: "Portail famille",
    body_class: None,
    menu_label: "Menu principal",
    logout: "/deconnexion",
};

/// The menu of a logged-in user, in the frame's header.
pub struct Menu<'a> {
    /// `(path, label)` of each link offered.
    pub links: Vec<(&'static str, &'static str)>,
    /// The path of the link this page belongs to, marked `aria-current`.
    pub current: &'a str,
    pub csrf: &'a str,
    /// Who is logged in, beside the logout button.
    pub who: String,
}

/// The frame of every page: language, title, skip link, the menu and the logout form of a
/// logged-in user, then the page's heading and content.
pub fn frame(site: &Site, title: &str, menu: Option<&Menu>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (site.name) }
                link rel="stylesheet" href=(super::assets::CSS_PATH);
            }
            body class=[site.body_class] {
                a class="skip" href="#contenu" { "Aller au contenu" }
                header class="site" {
                    p class="brand" { "Restauration scolaire – " (site.name) }
                    @if let Some(menu) = menu {
                        nav aria-label=(site.menu_label) {
                            ul {
                                @for (href, label) in &menu.links {
                                    li {
                                        @if menu.current == *href {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        form class="logout" method="post" action=(site.logout) {
                            input type="hidden" name=(CSRF_FIELD) value=(menu.csrf);
                            span { (menu.who) }
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

/// A portal page.
pub fn page(title: &str, nav: Option<&Nav>, content: Markup) -> Markup {
    let menu = nav.map(|nav| Menu {
        links: LINKS.to_vec(),
        current: nav.current,
        csrf: nav.csrf,
        who: nav.family_name.to_string(),
    });
    frame(&PORTAL, title, menu.as_ref(), content)
}

/// A refusal or failure as a page of `site`, with one link to somewhere useful.
pub fn refusal_page(
    site: &Site,
    status: StatusCode,
    title: &str,
    message: &str,
    (href, label): (&str, &str),
) -> Response {
    render(
        status,
        frame(
            site,
            title,
            None,
            html! {
                p role="alert" { (message) }
                p { a href=(href) { (label) } }
            },
        ),
    )
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
