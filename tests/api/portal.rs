//! The portal's sessions and forms without a browser: the login form's double submit, French
//! refusals, the session cookie's attributes, and the API and the portal each keeping to their
//! own credential (bearer header or cookie). The walk through the pages is `portal_e2e.rs`.

use cantine::accounts::Role;
use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::helpers::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// Posts the login form with a matching double-submit token.
async fn log_in(app: &TestApp, login: &str, password: &str, next: &str) -> reqwest::Response {
    client()
        .post(format!("{}/connexion", app.address))
        .header("cookie", "cantine_connexion=abc123")
        .form(&[
            ("identifiant", login),
            ("mot_de_passe", password),
            ("csrf", "abc123"),
            ("suivant", next),
        ])
        .send()
        .await
        .unwrap()
}

async fn family_login(app: &TestApp) -> String {
    let canteen = setup_repausset(app).await;
    family_with_child(app, &canteen.admin, "DUPONT", "Hervé").await;
    let (login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE role = 'family' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    login
}

#[tokio::test]
async fn the_login_form_opens_a_cookie_session_and_refuses_in_french() {
    let app = spawn_app().await;
    let login = family_login(&app).await;

    let page = client()
        .get(format!("{}/connexion", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookies = set_cookies(&page);
    assert!(
        cookies.iter().any(|c| c.starts_with("cantine_connexion=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookies:?}"
    );

    // A login form posted from elsewhere carries no matching cookie.
    let forged = client()
        .post(format!("{}/connexion", app.address))
        .form(&[
            ("identifiant", login.as_str()),
            ("mot_de_passe", "mot-de-passe"),
            ("csrf", "abc123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("Formulaire refusé"));

    let wrong = log_in(&app, &login, "pas-le-bon", "/").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Identifiant ou mot de passe incorrect."));

    // The wrong password delays the next attempt by a second, as on the API.
    app.wait_seconds(2);
    // Only local paths are followed after login.
    let ok = log_in(&app, &login, "mot-de-passe", "//ailleurs.example/").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/");
    let cookies = set_cookies(&ok);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("cantine_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }
    // The test server's public URL is plain http: a Secure cookie would never come back.
    assert!(!session.contains("Secure"), "{session}");
    let token = session
        .trim_start_matches("cantine_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // The cookie opens the portal, not the API; the bearer token opens the API, not the portal.
    let home = client()
        .get(format!("{}/", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Hervé"));
    let api_with_cookie = client()
        .get(format!("{}/api/v1/family", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(api_with_cookie.status(), 401);
    let portal_with_bearer = client()
        .get(format!("{}/", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(portal_with_bearer.status(), 401);
    app.get("/api/v1/family", &token).await.assert_status(200);

    // A portal form without the session's CSRF token is refused with a French page.
    let forged = client()
        .post(format!("{}/deconnexion", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .form(&[("csrf", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("Formulaire refusé"));
    app.get("/api/v1/family", &token).await.assert_status(200);

    // With it, logout ends the session for the API too (it is the same session).
    let csrf = cantine::portal::session::csrf_token_for_session(&app.state, &token);
    let out = client()
        .post(format!("{}/deconnexion", app.address))
        .header("cookie", format!("cantine_session={token}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(&out)
        .iter()
        .any(|c| c.starts_with("cantine_session=;") && c.contains("Max-Age=0")));
    app.get("/api/v1/family", &token)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn staff_cannot_open_a_portal_session() {
    let app = spawn_app().await;
    let login = "chef-portail";
    cantine::db::accounts::insert_user(
        &app.pool,
        login,
        Some(&cantine::accounts::hash_password("staff-password").unwrap()),
        Role::Kitchen,
        None,
    )
    .await
    .unwrap();
    let refused = log_in(&app, login, "staff-password", "/").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!set_cookies(&refused)
        .iter()
        .any(|c| c.starts_with("cantine_session=") && !c.contains("Max-Age=0")));
    let (open,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE u.login = $1 AND s.revoked_at IS NULL",
    )
    .bind(login)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        open, 0,
        "the staff session opened by the form is closed again"
    );
}
