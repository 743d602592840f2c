//! The staff back office without a browser: who opens which page (French refusals), the CSRF
//! rule on its forms, and that its pages show what the API's own routes give. The walk through
//! the pages in Chromium is `backoffice_e2e.rs`.

use cantine::accounts::Role;
use cantine::portal::session::csrf_token_for_session;
use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::helpers::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A page of the back office (or the portal) with the session as the browser's cookie.
async fn page(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let response = client()
        .get(format!("{}{path}", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// A url-encoded form with the session's cookie.
async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_staff_login_through_the_form_lands_on_the_back_office_home() {
    let app = spawn_app().await;
    cantine::db::accounts::insert_user(
        &app.pool,
        "compta",
        Some(&cantine::accounts::hash_password("mot-de-passe-compta").unwrap()),
        Role::Finance,
        None,
    )
    .await
    .unwrap();
    let landed = client()
        .post(format!("{}/connexion", app.address))
        .header("cookie", "cantine_connexion=abc123")
        .form(&[
            ("identifiant", "compta"),
            ("mot_de_passe", "mot-de-passe-compta"),
            ("csrf", "abc123"),
            ("suivant", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(landed.headers()["location"], "/gestion");
    let cookie = landed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cantine_session=") && !c.contains("Max-Age=0"))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let token = cookie["cantine_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, home) = page(&app, "/gestion", &token).await;
    assert_eq!(status, 200);
    assert!(home.contains("lang=\"fr\""));
    assert!(home.contains("Espace de gestion – Finances"), "{home}");
    assert!(home.contains("compta"));
}

#[tokio::test]
async fn each_role_sees_only_its_sections_and_families_are_refused_in_french() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let expectations: [(Role, &[&str], &[&str]); 4] = [
        (
            Role::Admin,
            &["/gestion/cuisine", "/gestion/documents"],
            &["/gestion/finances"],
        ),
        (
            Role::Kitchen,
            &["/gestion/cuisine"],
            &["/gestion/finances", "/gestion/documents"],
        ),
        (
            Role::Finance,
            &["/gestion/finances"],
            &["/gestion/cuisine", "/gestion/documents"],
        ),
        (
            Role::Auditor,
            &[],
            &[
                "/gestion/cuisine",
                "/gestion/finances",
                "/gestion/documents",
            ],
        ),
    ];
    for (role, shown, hidden) in expectations {
        let token = app.staff_token(role).await;
        let (status, home) = page(&app, "/gestion", &token).await;
        assert_eq!(status, 200, "{role:?}");
        for path in shown {
            assert!(
                home.contains(&format!("href=\"{path}\"")),
                "{role:?} {path}"
            );
        }
        for path in hidden {
            assert!(
                !home.contains(&format!("href=\"{path}\"")),
                "{role:?} {path}"
            );
        }
        // The family portal is not theirs.
        let (status, text) = page(&app, "/", &token).await;
        assert_eq!(status, 403, "{role:?}");
        assert!(text.contains("Accès refusé"));
    }
    // A family session opens no back-office page.
    let (status, text) = page(&app, "/gestion", &family.token).await;
    assert_eq!(status, 403);
    assert!(
        text.contains("Accès refusé") && text.contains("lang=\"fr\""),
        "{text}"
    );
    // Without a session: the login form, as in the portal.
    let anonymous = client()
        .get(format!("{}/gestion", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.text().await.unwrap().contains("Connexion"));
}

#[tokio::test]
async fn back_office_forms_need_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let token = app.staff_token(Role::Kitchen).await;
    let other = app.staff_token(Role::Kitchen).await;
    // No token, or another session's: refused, and the session stays open.
    for fields in [
        vec![],
        vec![("csrf", csrf_token_for_session(&app.state, &other))],
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = post_form(&app, "/gestion/deconnexion", &token, &fields).await;
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("Formulaire refusé"));
        assert_eq!(page(&app, "/gestion", &token).await.0, 200);
    }
    let csrf = csrf_token_for_session(&app.state, &token);
    let out = post_form(&app, "/gestion/deconnexion", &token, &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()["location"], "/connexion");
    assert_eq!(page(&app, "/gestion", &token).await.0, 401);
}
