//! The login page says whose portal it is (issue 19, point 2, for the town this install
//! serves): the town's name, address, phone, contact and site, and the documents visitors may
//! download before they log in (the rules and the tariff deliberation, not a family-only one,
//! not a withdrawn one). The contact details are the administrators' (`/gestion/commune`); a
//! refused change says why and changes nothing.

use cantine::app::demo_documents::one_page_pdf;
use cantine::app::documents::{self, Upload};
use cantine::domain::account::Role;
use cantine::web::pages::session::csrf_token_for_session;
use uuid::Uuid;

use crate::helpers::*;

async fn an_admin(app: &TestApp) -> Uuid {
    let (admin,): (Uuid,) = sqlx::query_as("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    admin
}

async fn publish(app: &TestApp, kind: &str, title: &str) -> (Uuid, Vec<u8>) {
    let admin = an_admin(app).await;
    let bytes = one_page_pdf(title, &["Pour le test."]);
    let upload = Upload {
        title: title.into(),
        kind: kind.into(),
        file_name: format!("{kind}.pdf"),
        bytes: bytes.clone(),
    };
    let id = documents::publish(&app.state, admin, upload)
        .await
        .unwrap_or_else(|_| panic!("{title} not published"));
    (id, bytes)
}

async fn anonymous_get(app: &TestApp, path: &str) -> reqwest::Response {
    no_redirect_client()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

async fn contact_form(app: &TestApp, token: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = csrf_token_for_session(&app.state, token);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    cookie_form(app, "/gestion/commune", token, &all).await
}

#[tokio::test]
async fn the_login_page_shows_the_town_and_only_its_public_documents() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let (rules, rules_bytes) = publish(&app, "rules", "Règlement intérieur 2026").await;
    let (other, _) = publish(&app, "other", "Menus du mois (familles)").await;
    let (withdrawn, _) = publish(&app, "tariffs", "Anciens tarifs").await;
    documents::withdraw(&app.state, an_admin(&app).await, withdrawn)
        .await
        .unwrap();

    // Before the administrators fill in the contact: the name, no empty "Tél".
    let page = anonymous_get(&app, "/connexion")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&app.state.organisation.name), "{page}");
    assert!(!page.contains("Tél :"));

    let saved = contact_form(
        &app,
        &canteen.admin,
        &[
            ("telephone", " 04.66.71.71.55 "),
            ("courriel", "cantine@example.fr"),
            ("site", "https://www.example.fr/cantine"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved).as_deref(),
        Some("/gestion/commune?fait=modifie#contenu")
    );

    let response = anonymous_get(&app, "/connexion").await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Tél : <a href=\"tel:0466717155\">04.66.71.71.55</a>"),
        "{page}"
    );
    assert!(page.contains("href=\"mailto:cantine@example.fr\""));
    assert!(page.contains("href=\"https://www.example.fr/cantine\""));
    assert!(page.contains("Documents à télécharger"));
    assert!(page.contains(&format!("href=\"/documents-publics/{rules}\"")));
    assert!(page.contains("Règlement intérieur 2026"));
    assert!(!page.contains("Menus du mois"), "a family-only document");
    assert!(!page.contains("Anciens tarifs"), "a withdrawn document");

    // The public document downloads without a session; the others are not found.
    let file = anonymous_get(&app, &format!("/documents-publics/{rules}")).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), rules_bytes.as_slice());
    for hidden in [other, withdrawn, Uuid::now_v7()] {
        let response = anonymous_get(&app, &format!("/documents-publics/{hidden}")).await;
        assert_eq!(response.status(), 404, "{hidden}");
    }
}

#[tokio::test]
async fn a_refused_contact_says_why_and_changes_nothing() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let ok = contact_form(
        &app,
        &canteen.admin,
        &[
            ("telephone", "04 66 71 71 55"),
            ("courriel", ""),
            ("site", ""),
        ],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let contact = || async {
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT phone, contact_email, website FROM organisations",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let before = contact().await;
    assert_eq!(before.0, "04 66 71 71 55");
    for (fields, message) in [
        (
            [
                ("telephone", "04 66 71 71 55"),
                ("courriel", "mairie"),
                ("site", ""),
            ],
            "Écrivez une adresse e-mail valide",
        ),
        (
            [
                ("telephone", "appelez-nous"),
                ("courriel", ""),
                ("site", ""),
            ],
            "Un numéro de téléphone",
        ),
        (
            [
                ("telephone", ""),
                ("courriel", ""),
                ("site", "javascript:alert(1)"),
            ],
            "Une adresse de site commençant par https://",
        ),
    ] {
        let refused = contact_form(&app, &canteen.admin, &fields).await;
        assert_eq!(refused.status(), 422, "{fields:?}");
        let page = refused.text().await.unwrap();
        assert!(page.contains("rien n'a été modifié"), "{page}");
        assert!(page.contains(message), "{message}: {page}");
        assert!(page.contains("aria-invalid=\"true\""));
        assert_eq!(contact().await, before, "{fields:?}");
    }
    // The page is the administrators' alone.
    for role in [Role::Kitchen, Role::Finance, Role::Desk] {
        let token = app.staff_token(role).await;
        let refused = contact_form(&app, &token, &[("telephone", "01 02 03 04 05")]).await;
        assert_eq!(refused.status(), 403, "{role:?}");
    }
    assert_eq!(contact().await, before);
}

const LOGO_BOUNDARY: &str = "x-cantine-logo-boundary";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The logo form as a browser sends it: the CSRF field and the file.
async fn post_logo(app: &TestApp, token: &str, file: &[u8]) -> reqwest::Response {
    let csrf = csrf_token_for_session(&app.state, token);
    let mut body = format!(
        "--{LOGO_BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{LOGO_BOUNDARY}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{LOGO_BOUNDARY}--\r\n").as_bytes());
    browser_request(app, reqwest::Method::POST, "/gestion/commune/logo", token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={LOGO_BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The town's logo (issue 19, point 1): the administrators give a PNG or JPEG of at most 200 KB,
/// told by its first bytes, and the login page shows it; anything else is refused in French next
/// to the field and changes nothing; a family cannot; removed, it is gone.
#[tokio::test]
async fn the_town_logo_is_shown_beside_the_login_form_and_only_an_image_is_taken() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    assert_eq!(anonymous_get(&app, "/logo").await.status(), 404);
    let page = anonymous_get(&app, "/connexion")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("town-logo"), "{page}");

    // A PDF sent as a PNG, an image too large, nothing at all: refused, nothing stored.
    let pdf = one_page_pdf("Pas un logo", &["Un PDF."]);
    let refused = post_logo(&app, &canteen.admin, &pdf).await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(text.contains("Une image PNG ou JPEG"), "{text}");
    assert!(text.contains("aria-invalid=\"true\""), "{text}");
    let mut too_large = PNG_SIGNATURE.to_vec();
    too_large.resize(200 * 1024 + 1, 0);
    let refused = post_logo(&app, &canteen.admin, &too_large).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("dépasse 200 Ko"));
    assert_eq!(post_logo(&app, &canteen.admin, b"").await.status(), 422);
    assert_eq!(anonymous_get(&app, "/logo").await.status(), 404);

    // A family is no administrator.
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend_from_slice(b"\0\0\0\rIHDR le reste de l'image");
    assert_eq!(post_logo(&app, &family.token, &png).await.status(), 403);
    assert_eq!(anonymous_get(&app, "/logo").await.status(), 404);

    // A PNG: stored, served as it was given, shown beside the login form.
    let saved = post_logo(&app, &canteen.admin, &png).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved).as_deref(),
        Some("/gestion/commune?fait=logo#contenu")
    );
    let logo = anonymous_get(&app, "/logo").await;
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.headers()["x-content-type-options"], "nosniff");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), png.as_slice());
    let page = anonymous_get(&app, "/connexion")
        .await
        .text()
        .await
        .unwrap();
    let shown = format!(
        "<img class=\"town-logo\" src=\"/logo\" alt=\"Logo de {}\">",
        app.state.organisation.name
    );
    assert!(page.contains(&shown), "{page}");

    // A JPEG replaces it.
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"JFIF"].concat();
    assert_eq!(post_logo(&app, &canteen.admin, &jpeg).await.status(), 303);
    let logo = anonymous_get(&app, "/logo").await;
    assert_eq!(logo.headers()["content-type"], "image/jpeg");

    // Removed: gone from the page and the address.
    let csrf = csrf_token_for_session(&app.state, &canteen.admin);
    let removed = cookie_form(
        &app,
        "/gestion/commune/logo/retrait",
        &canteen.admin,
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(anonymous_get(&app, "/logo").await.status(), 404);
    let page = anonymous_get(&app, "/connexion")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("town-logo"), "{page}");
}
