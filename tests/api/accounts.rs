//! Logins: argon2 passwords, three wrong in a row lock the account (423), tokens expire.

use serde_json::json;

use crate::helpers::*;

async fn family_login(app: &TestApp) -> (String, String) {
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let login = "famille.dupont@example.fr".to_string();
    app.post(
        "/api/v1/admin/families",
        &admin,
        json!({"name": "DUPONT", "login": login, "password": "mot-de-passe"}),
    )
    .await
    .assert_status(201);
    (admin, login)
}

#[tokio::test]
async fn login_answers_a_token_with_role_and_family() {
    let app = spawn_app().await;
    let (_, login) = family_login(&app).await;
    let reply = app.login("Famille.Dupont@Example.fr", "mot-de-passe").await;
    let session = reply.assert_status(200);
    assert_eq!(session["role"], "family");
    assert!(session["family_id"].is_string());
    assert_eq!(session["token"].as_str().unwrap().len(), 64);
    let expires: chrono::DateTime<chrono::Utc> =
        session["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > guide_now());
    // The token itself is never stored.
    let token = session["token"].as_str().unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM sessions WHERE token_hash = $1")
        .bind(token.as_bytes())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    app.get("/api/v1/family", token).await.assert_status(200);
    app.login(&login, "wrong")
        .await
        .assert_problem(401, "invalid_credentials");
    app.login("nobody@example.fr", "mot-de-passe")
        .await
        .assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn three_wrong_passwords_in_a_row_lock_the_account() {
    let app = spawn_app().await;
    let (_, login) = family_login(&app).await;
    // Each wrong password makes the next attempt wait (1 s, 2 s…): a person typing waits that.
    app.login(&login, "wrong-1")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    app.login(&login, "wrong-2")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    // A success in between starts the count again.
    app.login(&login, "mot-de-passe").await.assert_status(200);
    app.login(&login, "wrong-1")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    app.login(&login, "wrong-2")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    app.login(&login, "wrong-3")
        .await
        .assert_problem(423, "account_locked");
    app.wait_seconds(60);
    // Locked: even the right password is refused.
    app.login(&login, "mot-de-passe")
        .await
        .assert_problem(423, "account_locked");
}

#[tokio::test]
async fn tokens_expire() {
    let app = spawn_app().await;
    let (admin, login) = family_login(&app).await;
    let token = app.token(&login, "mot-de-passe").await;
    app.get("/api/v1/family", &token).await.assert_status(200);
    app.advance_clock(&admin, 13 * 60).await;
    app.get("/api/v1/family", &token)
        .await
        .assert_problem(401, "unauthorized");
}
