//! The portal's sessions and forms without a browser: the login form's double submit, French
//! refusals, the session cookie's attributes, and the API and the portal each keeping to their
//! own credential (bearer header or cookie). The walk through the pages is `portal_e2e.rs`.

use cantine::domain::account::Role;
use reqwest::StatusCode;

use crate::helpers::*;

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
    no_redirect_client()
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

    let page = no_redirect_client()
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
    let forged = no_redirect_client()
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
    let home = browser_request(&app, reqwest::Method::GET, "/", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Hervé"));
    let api_with_cookie = browser_request(&app, reqwest::Method::GET, "/api/v1/family", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(api_with_cookie.status(), 401);
    let portal_with_bearer = no_redirect_client()
        .get(format!("{}/", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(portal_with_bearer.status(), 401);
    app.get("/api/v1/family", &token).await.assert_status(200);

    // A portal form without the session's CSRF token is refused with a French page.
    let forged = browser_request(&app, reqwest::Method::POST, "/deconnexion", &token)
        .form(&[("csrf", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("Formulaire refusé"));
    app.get("/api/v1/family", &token).await.assert_status(200);

    // With it, logout ends the session for the API too (it is the same session).
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &token);
    let out = browser_request(&app, reqwest::Method::POST, "/deconnexion", &token)
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
async fn a_staff_login_lands_in_the_back_office_not_in_the_portal() {
    let app = spawn_app().await;
    let login = "chef-portail";
    cantine::db::accounts::insert_user(
        &app.pool,
        login,
        Some(&cantine::app::accounts::credentials::hash_password("staff-password").unwrap()),
        Role::Kitchen,
        None,
    )
    .await
    .unwrap();
    // Asked for a family page, a staff member still lands in the back office.
    let landed = log_in(&app, login, "staff-password", "/historique").await;
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(landed.headers()["location"], "/gestion");
    let session = set_cookies(&landed)
        .into_iter()
        .find(|c| c.starts_with("cantine_session=") && !c.contains("Max-Age=0"))
        .expect("a session cookie");
    let token = session["cantine_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let portal = browser_request(&app, reqwest::Method::GET, "/", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(portal.status(), StatusCode::FORBIDDEN);
    let text = portal.text().await.unwrap();
    assert!(
        text.contains("Accès refusé") && text.contains("href=\"/gestion\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_bulk_choice_books_what_it_can_and_the_recap_says_what_it_could_not() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &family.token);
    // "+ tous les lundis" on 11 January: from today to the end of the period.
    let posted = browser_request(
        &app,
        reqwest::Method::POST,
        "/reservation/calendrier",
        &family.token,
    )
    .header("content-type", "application/x-www-form-urlencoded")
    .body(format!(
        "csrf={csrf}&enfant={}&periode={}&mois=2017-01&choix=tous-mon",
        family.child_id, canteen.period_id
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let recap_path = posted.headers()["location"].to_str().unwrap().to_string();
    let recap = browser_request(&app, reqwest::Method::GET, &recap_path, &family.token)
        .send()
        .await
        .unwrap();
    assert_eq!(recap.status(), 200);
    let html = recap.text().await.unwrap();
    assert!(html.contains("En attente de confirmation"), "{html}");
    // 16 January is past its cut-off (Tuesday 10th, 09:30); 23 January is the first Monday left.
    assert!(
        html.contains("Non réservé : 16/01/2017 - Date limite de réservation dépassée"),
        "{html}"
    );
    assert!(html.contains("lun. 23/01/2017"), "{html}");
    assert!(!html.contains("mar. 24/01/2017"), "only Mondays: {html}");

    // Abandoning the request (once the question is answered) gives its places back at once.
    let id = recap_path.trim_start_matches("/reservations/");
    let cancelled = browser_request(
        &app,
        reqwest::Method::POST,
        &format!("/reservations/{id}/annuler"),
        &family.token,
    )
    .form(&[("csrf", csrf.as_str()), ("confirmation", "oui")])
    .send()
    .await
    .unwrap();
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    assert_eq!(detail.assert_status(200)["status"], "cancelled");
}

#[tokio::test]
async fn a_calendar_validated_without_a_day_says_so_in_french() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &family.token);
    let events = app.event_count().await;
    let posted = browser_request(
        &app,
        reqwest::Method::POST,
        "/reservation/calendrier",
        &family.token,
    )
    .header("content-type", "application/x-www-form-urlencoded")
    .body(format!(
        "csrf={csrf}&enfant={}&periode={}&mois=2017-01&choix=jours",
        family.child_id, canteen.period_id
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(posted.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(posted
        .text()
        .await
        .unwrap()
        .contains("Cochez au moins un jour libre"));
    assert_eq!(app.event_count().await, events);
}

/// The family's login, with a session opened by the API.
async fn family_session(app: &TestApp) -> (String, String) {
    let canteen = setup_repausset(app).await;
    let family = family_with_child(app, &canteen.admin, "DUPONT", "Hervé").await;
    let (login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE role = 'family' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (login, family.token)
}

fn session_token(response: &reqwest::Response) -> Option<String> {
    set_cookies(response)
        .iter()
        .find(|c| c.starts_with("cantine_session=") && !c.contains("Max-Age=0"))
        .map(|c| {
            c.trim_start_matches("cantine_session=")
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
}

async fn change_password(
    app: &TestApp,
    token: &str,
    csrf: &str,
    current: &str,
    new: &str,
    confirmation: &str,
) -> reqwest::Response {
    browser_request(app, reqwest::Method::POST, "/compte/mot-de-passe", token)
        .form(&[
            ("csrf", csrf),
            ("mot_de_passe_actuel", current),
            ("nouveau_mot_de_passe", new),
            ("confirmation", confirmation),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_refuses_in_french() {
    let app = spawn_app().await;
    let (login, token) = family_session(&app).await;
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &token);

    let page = browser_request(&app, reqwest::Method::GET, "/compte", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "DUPONT",
        login.as_str(),
        "Hervé",
        r#"href="/compte" aria-current="page""#,
        r#"autocomplete="current-password""#,
        r#"autocomplete="new-password""#,
        r#"autocomplete="email""#,
        r#"<label for="mdp-actuel">"#,
    ] {
        assert!(html.contains(expected), "{expected}: {html}");
    }
    let hash_before: (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE login = $1")
        .bind(&login)
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // Without the session's CSRF token: refused, nothing changed.
    let forged = change_password(
        &app,
        &token,
        "0000",
        "mot-de-passe",
        "nouveau-secret",
        "nouveau-secret",
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("Formulaire refusé"));

    let wrong = change_password(
        &app,
        &token,
        &csrf,
        "pas-le-bon",
        "nouveau-secret",
        "nouveau-secret",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("Le mot de passe actuel est incorrect : rien n'a été modifié."),
        "{html}"
    );
    app.wait_seconds(2);

    let differs = change_password(
        &app,
        &token,
        &csrf,
        "mot-de-passe",
        "nouveau-secret",
        "autre-secret",
    )
    .await;
    assert_eq!(differs.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(differs
        .text()
        .await
        .unwrap()
        .contains("ne sont pas identiques"));

    let short = change_password(&app, &token, &csrf, "mot-de-passe", "court", "court").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.unwrap().contains("8 à 256 caractères"));

    let hash_after: (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE login = $1")
        .bind(&login)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hash_before, hash_after, "refusals change nothing");
    app.get("/api/v1/family", &token).await.assert_status(200);

    let changed = change_password(
        &app,
        &token,
        &csrf,
        "mot-de-passe",
        "nouveau-secret",
        "nouveau-secret",
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(changed.headers()["location"], "/compte?fait=mot-de-passe");
    let new_token = session_token(&changed).expect("a new session cookie");
    // Every earlier session ended; the browser carries on with the new one.
    app.get("/api/v1/family", &token)
        .await
        .assert_problem(401, "unauthorized");
    let done = browser_request(
        &app,
        reqwest::Method::GET,
        "/compte?fait=mot-de-passe",
        &new_token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done
        .text()
        .await
        .unwrap()
        .contains("Votre mot de passe est modifié."));

    let with_new = log_in(&app, &login, "nouveau-secret", "/").await;
    assert_eq!(with_new.status(), StatusCode::SEE_OTHER);
    let with_old = log_in(&app, &login, "mot-de-passe", "/").await;
    assert_eq!(with_old.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_account_page_changes_the_login_e_mail() {
    let app = spawn_app().await;
    let (login, token) = family_session(&app).await;
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &token);
    let changed = browser_request(&app, reqwest::Method::POST, "/compte/identifiant", &token)
        .form(&[
            ("csrf", csrf.as_str()),
            ("mot_de_passe_actuel", "mot-de-passe"),
            ("identifiant", "nouvelle.adresse@example.fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(changed.headers()["location"], "/compte?fait=identifiant");
    app.login("nouvelle.adresse@example.fr", "mot-de-passe")
        .await
        .assert_status(200);
    app.login(&login, "mot-de-passe")
        .await
        .assert_problem(401, "invalid_credentials");
}

async fn ask_password_email(app: &TestApp, login: &str) -> reqwest::Response {
    no_redirect_client()
        .post(format!("{}/connexion/mot-de-passe", app.address))
        .header("cookie", "cantine_connexion=abc123")
        .form(&[("identifiant", login), ("csrf", "abc123")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_password_e_mail_page_answers_alike_for_known_and_unknown_addresses() {
    let app = spawn_app().await;
    let (login, _) = family_session(&app).await;

    let connexion = no_redirect_client()
        .get(format!("{}/connexion", app.address))
        .send()
        .await
        .unwrap();
    assert!(connexion
        .text()
        .await
        .unwrap()
        .contains(r#"<a href="/connexion/mot-de-passe">Générer votre mot de passe</a>"#));
    let page = no_redirect_client()
        .get(format!("{}/connexion/mot-de-passe", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(set_cookies(&page)
        .iter()
        .any(|c| c.starts_with("cantine_connexion=")));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"autocomplete="email""#), "{html}");

    // Posted from elsewhere: no matching cookie, no e-mail.
    let forged = no_redirect_client()
        .post(format!("{}/connexion/mot-de-passe", app.address))
        .form(&[("identifiant", login.as_str()), ("csrf", "abc123")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let known = ask_password_email(&app, &login).await;
    let unknown = ask_password_email(&app, "personne@example.fr").await;
    assert_eq!(known.status(), 200);
    assert_eq!(unknown.status(), 200);
    let answer = cantine::web::api::password::EMAIL_ANSWER;
    assert!(known.text().await.unwrap().contains(answer));
    assert!(unknown.text().await.unwrap().contains(answer));
    assert!(!app.password_link_token(&login, 1).await.is_empty());
    assert!(app.mail_to("personne@example.fr").is_empty());
}

#[tokio::test]
async fn the_login_page_says_in_french_that_the_account_is_locked() {
    let app = spawn_app().await;
    let (login, _) = family_session(&app).await;
    for attempt in 1..=3 {
        let wrong = log_in(&app, &login, "pas-le-bon", "/").await;
        let status = wrong.status();
        let html = wrong.text().await.unwrap();
        if attempt < 3 {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
        } else {
            assert_eq!(status, StatusCode::LOCKED, "{html}");
            assert!(
                html.contains("Votre compte est verrouillé après 3 mots de passe erronés"),
                "{html}"
            );
            assert!(html.contains("Générer votre mot de passe"), "{html}");
        }
        // Past the growing delay between wrong passwords.
        app.wait_seconds(10);
    }
    // The right password does not open a locked account either.
    let locked = log_in(&app, &login, "mot-de-passe", "/").await;
    assert_eq!(locked.status(), StatusCode::LOCKED);
}
