//! Accounts and security: the lock and the password link (second guide), delays, sessions,
//! staff account management, the login log, headers, CORS and limits.

use cantine::app::SecuritySettings;
use cantine::domain::account::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const LOGIN: &str = "famille.dupont@example.fr";

/// A family account created by staff, with or without a password.
async fn family_account(app: &TestApp, password: Option<&str>) -> (String, String) {
    let admin = app.staff_token(Role::Admin).await;
    let mut body = json!({"name": "DUPONT", "login": LOGIN});
    if let Some(password) = password {
        body["password"] = json!(password);
    }
    let reply = app.post("/api/v1/admin/families", &admin, body).await;
    let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
    (admin, id)
}

async fn ask_for_link(app: &TestApp, login: &str) -> Reply {
    app.request(
        Method::POST,
        "/api/v1/auth/password-email",
        None,
        Some(json!({"login": login})),
    )
    .await
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> Reply {
    app.request(
        Method::POST,
        "/api/v1/auth/password",
        None,
        Some(json!({"token": token, "new_password": password})),
    )
    .await
}

async fn lock(app: &TestApp, login: &str) {
    for expected in [401, 401, 423] {
        app.login(login, "pas-le-bon").await.assert_status(expected);
        app.wait_seconds(60);
    }
}

#[tokio::test]
async fn three_wrong_passwords_answer_423_and_the_password_link_unlocks() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    let token = app.token(LOGIN, "mot-de-passe").await;
    lock(&app, LOGIN).await;
    app.login(LOGIN, "mot-de-passe")
        .await
        .assert_problem(423, "account_locked");
    // A lock stops new logins, not the session already open (issue 15: a stranger's wrong
    // passwords must not log the family out).
    app.get("/api/v1/family", &token).await.assert_status(200);

    ask_for_link(&app, LOGIN).await.assert_status(202);
    let link = app.password_link_token(LOGIN, 1).await;
    let mail = &app.mail_to(LOGIN)[0];
    assert_eq!(mail.subject, "Votre mot de passe du portail famille");
    assert!(
        mail.body
            .contains("Votre identifiant est votre adresse e-mail"),
        "{}",
        mail.body
    );
    assert!(mail
        .body
        .contains(&format!("{}/mot-de-passe?jeton={link}", app.address)));

    // The page the link opens shows the form and spends nothing.
    let page = app
        .request(
            Method::GET,
            &format!("/mot-de-passe?jeton={link}"),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .as_str()
        .unwrap()
        .contains("Choisir votre mot de passe"));

    set_password(&app, &link, "nouveau-secret")
        .await
        .assert_status(200);
    app.login(LOGIN, "mot-de-passe")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    app.login(LOGIN, "nouveau-secret").await.assert_status(200);
}

#[tokio::test]
async fn staff_unlock_a_locked_account() {
    let app = spawn_app().await;
    let (admin, id) = family_account(&app, Some("mot-de-passe")).await;
    lock(&app, LOGIN).await;
    let account = app
        .get(&format!("/api/v1/admin/families/{id}"), &admin)
        .await;
    assert_eq!(account.assert_status(200)["locked"], true);
    let unlocked = app
        .post_empty(&format!("/api/v1/admin/families/{id}/unlock"), &admin)
        .await;
    assert_eq!(unlocked.assert_status(200)["locked"], false);
    app.login(LOGIN, "mot-de-passe").await.assert_status(200);
}

#[tokio::test]
async fn a_password_link_works_once_and_ends_every_session() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    let session = app.token(LOGIN, "mot-de-passe").await;
    ask_for_link(&app, LOGIN).await.assert_status(202);
    let link = app.password_link_token(LOGIN, 1).await;
    set_password(&app, &link, "nouveau-secret")
        .await
        .assert_status(200);
    app.get("/api/v1/family", &session)
        .await
        .assert_problem(401, "unauthorized");
    set_password(&app, &link, "encore-un-autre")
        .await
        .assert_problem(422, "invalid_link");
    let page = app
        .request(
            Method::GET,
            &format!("/mot-de-passe?jeton={link}"),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, 410);
    app.login(LOGIN, "nouveau-secret").await.assert_status(200);
}

#[tokio::test]
async fn a_password_link_expires_after_an_hour_and_a_weak_password_spends_nothing() {
    let app = spawn_app().await;
    family_account(&app, None).await;
    // A family without a password cannot log in until it chooses one.
    app.login(LOGIN, "")
        .await
        .assert_problem(401, "invalid_credentials");
    ask_for_link(&app, LOGIN).await.assert_status(202);
    let link = app.password_link_token(LOGIN, 1).await;
    set_password(&app, &link, "court")
        .await
        .assert_problem(422, "weak_password");
    app.wait_seconds(61 * 60);
    set_password(&app, &link, "assez-long")
        .await
        .assert_problem(422, "invalid_link");
    let (has_password,): (bool,) =
        sqlx::query_as("SELECT password_hash IS NOT NULL FROM users WHERE login = $1")
            .bind(LOGIN)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!has_password);
    // A fresh link within the hour works.
    ask_for_link(&app, LOGIN).await.assert_status(202);
    let fresh = app.password_link_token(LOGIN, 2).await;
    app.wait_seconds(59 * 60);
    set_password(&app, &fresh, "assez-long")
        .await
        .assert_status(200);
    app.login(LOGIN, "assez-long").await.assert_status(200);
}

#[tokio::test]
async fn asking_for_a_link_never_says_whether_the_address_exists() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    let known = ask_for_link(&app, LOGIN).await;
    let unknown = ask_for_link(&app, "personne@example.fr").await;
    let staff = ask_for_link(&app, "admin").await;
    assert_eq!(known.status, 202);
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert_eq!((staff.status, &staff.body), (known.status, &known.body));
    app.password_link_token(LOGIN, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let sent = app.mail.lock().unwrap().len();
    assert_eq!(sent, 1, "only the family's address gets a message");
}

#[tokio::test]
async fn password_emails_are_limited_per_address_typed_known_or_not() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    for login in [LOGIN, "personne@example.fr"] {
        for _ in 0..3 {
            ask_for_link(&app, login).await.assert_status(202);
        }
        let refused = ask_for_link(&app, login).await;
        refused.assert_problem(429, "too_many_attempts");
    }
    app.wait_seconds(3600);
    ask_for_link(&app, LOGIN).await.assert_status(202);
}

#[tokio::test]
async fn wrong_passwords_make_the_next_attempt_wait_longer_each_time() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    // Seconds count here: a slow machine must not let them pass between two requests.
    app.pause_clock();
    app.login(LOGIN, "faux-1")
        .await
        .assert_problem(401, "invalid_credentials");
    let response = app
        .raw()
        .await
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"login": LOGIN, "password": "mot-de-passe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    TestApp::reply(response)
        .await
        .assert_problem(429, "too_many_attempts");
    app.wait_seconds(1);
    app.login(LOGIN, "faux-2")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(1);
    let refused = app.login(LOGIN, "faux-3").await;
    refused.assert_problem(429, "too_many_attempts");
    // Refused attempts are not checked, so they cannot lock the account.
    let (failures,): (i32,) = sqlx::query_as("SELECT failed_logins FROM users WHERE login = $1")
        .bind(LOGIN)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(failures, 2);
    app.wait_seconds(1);
    app.login(LOGIN, "mot-de-passe").await.assert_status(200);
}

#[tokio::test]
async fn one_address_guessing_over_many_accounts_is_slowed_down() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    app.pause_clock();
    // Ten failures are free (a family sharing an address with others, a school's network)…
    for n in 0..11 {
        app.login(&format!("inconnu-{n}@example.fr"), "devine")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // …then each one makes the next wait, whichever account it names.
    app.login("inconnu-11@example.fr", "devine")
        .await
        .assert_problem(429, "too_many_attempts");
    app.wait_seconds(1);
    app.login("inconnu-11@example.fr", "devine")
        .await
        .assert_problem(401, "invalid_credentials");
    app.login(LOGIN, "mot-de-passe")
        .await
        .assert_problem(429, "too_many_attempts");
    // After a quiet hour the address starts again.
    app.wait_seconds(3600);
    app.login(LOGIN, "mot-de-passe").await.assert_status(200);
}

#[tokio::test]
async fn logout_ends_one_session_and_tokens_expire() {
    let app = spawn_app().await;
    let (admin, _) = family_account(&app, Some("mot-de-passe")).await;
    let phone = app.token(LOGIN, "mot-de-passe").await;
    let laptop = app.token(LOGIN, "mot-de-passe").await;
    let logout = app.post_empty("/api/v1/auth/logout", &phone).await;
    assert_eq!(logout.status.as_u16(), 204);
    app.get("/api/v1/family", &phone)
        .await
        .assert_problem(401, "unauthorized");
    app.get("/api/v1/family", &laptop).await.assert_status(200);
    app.advance_clock(&admin, 12 * 60 + 1).await;
    app.get("/api/v1/family", &laptop)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn changing_password_or_login_needs_the_current_password_and_a_new_password_ends_every_session(
) {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    let phone = app.token(LOGIN, "mot-de-passe").await;
    let laptop = app.token(LOGIN, "mot-de-passe").await;

    app.post(
        "/api/v1/account/password",
        &laptop,
        json!({"current_password": "pas-le-bon", "new_password": "nouveau-secret"}),
    )
    .await
    .assert_problem(422, "wrong_password");
    app.wait_seconds(60);
    app.post(
        "/api/v1/account/login",
        &laptop,
        json!({"current_password": "pas-le-bon", "new_login": "dupont@exemple.fr"}),
    )
    .await
    .assert_problem(422, "wrong_password");
    app.wait_seconds(60);
    app.get("/api/v1/family", &laptop).await.assert_status(200);

    let changed = app
        .post(
            "/api/v1/account/password",
            &laptop,
            json!({"current_password": "mot-de-passe", "new_password": "nouveau-secret"}),
        )
        .await;
    let fresh = changed.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    for old in [&phone, &laptop] {
        app.get("/api/v1/family", old)
            .await
            .assert_problem(401, "unauthorized");
    }
    app.get("/api/v1/family", &fresh).await.assert_status(200);

    app.post(
        "/api/v1/account/login",
        &fresh,
        json!({"current_password": "nouveau-secret", "new_login": "pas une adresse"}),
    )
    .await
    .assert_problem(422, "invalid_login");
    let moved = app
        .post(
            "/api/v1/account/login",
            &fresh,
            json!({"current_password": "nouveau-secret", "new_login": "dupont@exemple.fr"}),
        )
        .await;
    assert_eq!(moved.assert_status(200)["login"], "dupont@exemple.fr");
    app.login("dupont@exemple.fr", "nouveau-secret")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn staff_edit_disable_and_enable_a_family_account() {
    let app = spawn_app().await;
    let (admin, id) = family_account(&app, Some("mot-de-passe")).await;
    let other = app
        .post(
            "/api/v1/admin/families",
            &admin,
            json!({"name": "MARTIN", "login": "martin@example.fr"}),
        )
        .await;
    other.assert_status(201);
    let session = app.token(LOGIN, "mot-de-passe").await;
    let path = format!("/api/v1/admin/families/{id}");

    // Refused edits change nothing.
    let taken = app
        .request(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "X", "login": "MARTIN@example.fr"})),
        )
        .await;
    taken.assert_problem(409, "login_taken");
    app.request(
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"login": "dupont"})),
    )
    .await
    .assert_problem(422, "invalid_login");
    let unchanged = app.get(&path, &admin).await;
    assert_eq!(unchanged.assert_status(200)["name"], "DUPONT");
    assert_eq!(unchanged.body["login"], LOGIN);

    let edited = app
        .request(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "DUPONT-DURAND", "login": "dupont.durand@example.fr"})),
        )
        .await;
    assert_eq!(edited.assert_status(200)["name"], "DUPONT-DURAND");
    assert_eq!(edited.body["login"], "dupont.durand@example.fr");

    let disabled = app.post_empty(&format!("{path}/disable"), &admin).await;
    assert_eq!(disabled.assert_status(200)["disabled"], true);
    app.get("/api/v1/family", &session)
        .await
        .assert_problem(401, "unauthorized");
    app.login("dupont.durand@example.fr", "mot-de-passe")
        .await
        .assert_problem(403, "account_disabled");
    app.post_empty(&format!("{path}/password-email"), &admin)
        .await
        .assert_problem(409, "account_disabled");
    app.post_empty(&format!("{path}/enable"), &admin)
        .await
        .assert_status(200);
    app.login("dupont.durand@example.fr", "mot-de-passe")
        .await
        .assert_status(200);

    // Staff can send the password e-mail of a new account.
    app.post_empty(&format!("{path}/password-email"), &admin)
        .await
        .assert_status(202);
    app.password_link_token("dupont.durand@example.fr", 1).await;

    app.get(
        &format!("/api/v1/admin/families/{}", uuid::Uuid::new_v4()),
        &admin,
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn login_attempts_are_logged_with_who_when_where_and_result_never_the_password() {
    let app = spawn_app().await;
    family_account(&app, Some("mot-de-passe")).await;
    app.login(LOGIN, "secret-faux-1").await.assert_status(401);
    app.wait_seconds(60);
    app.login(LOGIN, "mot-de-passe").await.assert_status(200);
    app.login("secret-tape-dans-le-login", "x")
        .await
        .assert_status(401);
    let auditor = app.staff_token(Role::Auditor).await;
    let log = app.get("/api/v1/audit/logins?limit=10", &auditor).await;
    let rows = log.assert_status(200).as_array().unwrap().clone();
    let results: Vec<&str> = rows.iter().map(|r| r["result"].as_str().unwrap()).collect();
    // Newest first: the auditor's own login, the unknown login, the success, the wrong password,
    // the admin's login that created the family.
    assert_eq!(
        results,
        [
            "success",
            "unknown_login",
            "success",
            "wrong_password",
            "success"
        ]
    );
    assert_eq!(rows[3]["login"], LOGIN);
    assert_eq!(rows[3]["client"], "127.0.0.1");
    assert!(
        rows[3]["at"]
            .as_str()
            .unwrap()
            .starts_with("2017-01-11T13:"),
        "{}",
        rows[3]
    );
    assert!(
        rows[1]["login"].is_null(),
        "an unknown login may be a password: not kept"
    );
    let text = log.body.to_string();
    for secret in ["secret-faux-1", "mot-de-passe", "secret-tape-dans-le-login"] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
    let kitchen = app.staff_token(Role::Kitchen).await;
    app.get("/api/v1/audit/logins", &kitchen)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn every_answer_carries_security_headers_and_no_cors_unless_configured() {
    let app = spawn_app().await;
    for path in ["/health", "/api/v1/family", "/no-such-route"] {
        let response = app
            .raw()
            .await
            .get(format!("{}{path}", app.address))
            .header("origin", "https://ailleurs.example")
            .send()
            .await
            .unwrap();
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(h.get("access-control-allow-origin").is_none());
        assert!(h.get("strict-transport-security").is_none());
    }

    let portal = "https://portail.example.fr";
    let configured = spawn_app_with(SecuritySettings {
        cors_origins: vec![portal.into()],
        hsts: true,
        ..Default::default()
    })
    .await;
    let preflight = configured
        .raw()
        .await
        .request(
            Method::OPTIONS,
            format!("{}/api/v1/family", configured.address),
        )
        .header("origin", portal)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], portal);
    let stranger = configured
        .raw()
        .await
        .get(format!("{}/health", configured.address))
        .header("origin", "https://ailleurs.example")
        .send()
        .await
        .unwrap();
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert_eq!(
        stranger.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test]
async fn the_client_address_comes_from_x_forwarded_for_only_behind_a_configured_proxy() {
    let direct = spawn_app().await;
    let proxied = spawn_app_with(SecuritySettings {
        trust_forwarded_for: true,
        ..Default::default()
    })
    .await;
    for app in [&direct, &proxied] {
        app.raw()
            .await
            .post(format!("{}/api/v1/auth/login", app.address))
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .json(&json!({"login": "x@example.fr", "password": "y"}))
            .send()
            .await
            .unwrap();
    }
    let client = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            let (client,): (String,) =
                sqlx::query_as("SELECT client FROM login_attempts ORDER BY id DESC LIMIT 1")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            client
        }
    };
    assert_eq!(client(&direct).await, "127.0.0.1");
    assert_eq!(client(&proxied).await, "198.51.100.7");
}

#[tokio::test]
async fn bodies_are_limited_and_children_hold_only_a_menu_choice() {
    let app = spawn_app().await;
    let (admin, id) = family_account(&app, Some("mot-de-passe")).await;
    let huge = "x".repeat(100 * 1024);
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": LOGIN, "password": huge})),
    )
    .await
    .assert_problem(413, "body_too_large");
    // A long password inside the limit is refused without being hashed.
    app.login(LOGIN, &"x".repeat(10_000))
        .await
        .assert_problem(401, "invalid_credentials");
    app.post(
        &format!("/api/v1/admin/families/{id}/children"),
        &admin,
        json!({"first_name": "Hervé", "last_name": "DUPONT", "meal_option": "standard", "religion": "x"}),
    )
    .await
    .assert_problem(400, "malformed_body");
    app.post(
        &format!("/api/v1/admin/families/{id}/children"),
        &admin,
        json!({"first_name": "Hervé", "last_name": "DUPONT", "meal_option": "halal"}),
    )
    .await
    .assert_problem(422, "invalid_meal_option");
}

async fn submit_page(app: &TestApp, form: String) -> Reply {
    let response = app
        .raw()
        .await
        .post(format!("{}/mot-de-passe", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

#[tokio::test]
async fn the_page_behind_the_link_sets_the_password_with_its_form() {
    let app = spawn_app().await;
    family_account(&app, None).await;
    ask_for_link(&app, LOGIN).await.assert_status(202);
    let link = app.password_link_token(LOGIN, 1).await;
    let mismatch = submit_page(
        &app,
        format!("jeton={link}&mot_de_passe=premier-essai&confirmation=second-essai"),
    )
    .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch
        .body
        .as_str()
        .unwrap()
        .contains("ne sont pas identiques"));
    let done = submit_page(
        &app,
        format!("jeton={link}&mot_de_passe=mon-secret&confirmation=mon-secret"),
    )
    .await;
    assert_eq!(done.status, 200);
    assert!(done
        .body
        .as_str()
        .unwrap()
        .contains("Mot de passe enregistré"));
    app.login(LOGIN, "mon-secret").await.assert_status(200);
    let again = submit_page(
        &app,
        format!("jeton={link}&mot_de_passe=autre-secret&confirmation=autre-secret"),
    )
    .await;
    assert_eq!(again.status, 410);
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_answered_405_as_a_problem() {
    let app = spawn_app().await;
    let reply = app
        .request(Method::DELETE, "/api/v1/family", None, None)
        .await;
    reply.assert_problem(405, "method_not_allowed");
}
