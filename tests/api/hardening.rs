//! What a security probe of the running service found (issue 15), one test a finding: each
//! failed before its fix.

use cantine::domain::account::Role;
use serde_json::json;

use crate::helpers::*;

/// Posts the login form (double submit token included) with this `suivant`.
async fn log_in_then(app: &TestApp, login: &str, next: &str) -> reqwest::Response {
    no_redirect_client()
        .post(format!("{}/connexion", app.address))
        .header("cookie", "cantine_connexion=abc123")
        .form(&[
            ("identifiant", login),
            ("mot_de_passe", "mot-de-passe"),
            ("csrf", "abc123"),
            ("suivant", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn after_login_only_a_path_of_this_site_is_followed() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let (login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE role = 'family' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // Browsers drop tabs and newlines from a URL: "/\t/evil.example" is "//evil.example".
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "\t//evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/ /evil.example",
    ] {
        let response = log_in_then(&app, &login, next).await;
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(
            location(&response).as_deref(),
            Some("/"),
            "{next:?} must land on the portal's home"
        );
    }
    // A NUL is refused before the login is even looked at (see the control characters below).
    let response = log_in_then(&app, &login, "/\u{0}/evil.example").await;
    assert_eq!(response.status(), 400);
    let response = log_in_then(&app, &login, "/historique?page=2").await;
    assert_eq!(location(&response).as_deref(), Some("/historique?page=2"));
}

#[tokio::test]
async fn a_period_of_eight_thousand_years_and_a_selection_without_end_are_refused() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let mut forever = repausset_period(&canteen.restaurant_id);
    forever["from"] = json!("0001-01-01");
    forever["to"] = json!("9999-12-31");
    let before = app.event_count().await;
    app.post("/api/v1/admin/periods", &canteen.admin, forever)
        .await
        .assert_problem(422, "period_too_long");
    let mut two_years_and_a_day = repausset_period(&canteen.restaurant_id);
    two_years_and_a_day["from"] = json!("2016-09-01");
    two_years_and_a_day["to"] = json!("2018-09-02");
    app.post("/api/v1/admin/periods", &canteen.admin, two_years_and_a_day)
        .await
        .assert_problem(422, "period_too_long");
    let (periods,): (i64,) = sqlx::query_as("SELECT count(*) FROM periods")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(periods, 1, "a refused period is not stored");
    assert_eq!(app.event_count().await, before);

    // A list of days is bounded too, before anything is looked up.
    let family = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let days: Vec<String> = (0..1000)
        .map(|n| {
            (chrono::NaiveDate::from_ymd_opt(2017, 1, 23).unwrap() + chrono::Duration::days(n))
                .to_string()
        })
        .collect();
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
    )
    .await
    .assert_problem(422, "too_many_days");
}

#[tokio::test]
async fn control_characters_and_huge_pages_are_refused_at_the_edge_not_500() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    // A NUL in a login, a name, a label, a search.
    app.request(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": "a\u{0}b@example.fr", "password": "x"})),
    )
    .await
    .assert_problem(400, "invalid_text");
    app.post(
        "/api/v1/admin/families",
        &canteen.admin,
        json!({"name": "Du\u{0}pont", "login": "nul@example.fr"}),
    )
    .await
    .assert_problem(400, "invalid_text");
    app.post(
        "/api/v1/admin/restaurants",
        &canteen.admin,
        json!({"name": "Cantine\u{1}", "capacity": 10}),
    )
    .await
    .assert_problem(400, "invalid_text");
    app.get("/api/v1/reservations?q=%00", &family.token)
        .await
        .assert_problem(400, "invalid_text");
    app.request(
        reqwest::Method::POST,
        "/api/v1/auth/password-email",
        None,
        Some(json!({"login": "x\u{0}@example.fr"})),
    )
    .await
    .assert_problem(400, "invalid_text");
    // The back office's paging: a page far beyond any offset is the last page, not a 500.
    let (status, page) = cookie_page(
        &app,
        "/gestion/familles?page=9223372036854775807",
        &canteen.admin,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = cookie_page(&app, "/gestion/familles?q=%00", &canteen.admin).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family =
        family_with_child(&app, &canteen.admin, "=HYPERLINK(\"http://evil\")", "@Léa").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    pay(&app, &family, &[&id]).await;
    all_fresh(&app).await;
    let finance = app.staff_token(Role::Finance).await;
    let csv = app
        .get_csv(
            "/api/v1/finance/invoices?from=2017-01-01&to=2017-01-31",
            &finance,
        )
        .await;
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "the family's name is text, not a formula: {csv}"
    );
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    // Numbers keep their sign: a negative amount is not a formula.
    assert!(csv.contains(",4.15"), "{csv}");
}

#[tokio::test]
async fn an_upload_must_be_a_pdf_inside_not_only_by_its_first_bytes() {
    use cantine::app::documents::{check, Upload};
    let upload = |bytes: &[u8]| Upload {
        title: "Règlement".into(),
        kind: "rules".into(),
        file_name: "r.pdf".into(),
        bytes: bytes.to_vec(),
    };
    assert!(check(&upload(b"%PDF-1.7 <script>alert(1)</script>"))
        .file
        .is_some());
    assert!(check(&upload(b"%PDF-\x00\x00 an executable"))
        .file
        .is_some());
    assert!(check(&upload(MINIMAL_PDF)).file.is_none());
}

/// The smallest file that is a PDF inside: header, an object, a cross-reference, a trailer.
pub const MINIMAL_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer << /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n";

/// A family's payment of one booked and confirmed day (4.15 €), started and not yet notified.
async fn pending_payment(app: &TestApp, canteen: &Canteen, family: &Family) -> String {
    let id = book_and_confirm(app, canteen, family, &["2017-01-23"]).await;
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"reservation_ids": [id]}),
    )
    .await
    .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn payment_status(app: &TestApp, id: &str) -> String {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM payments WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    status
}

#[tokio::test]
async fn a_strangers_idempotency_key_does_not_block_the_providers_notification() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let payment_id = &pending_payment(&app, &canteen, &family).await;
    let body = json!({"payment_id": payment_id, "status": "succeeded", "amount": "4.15", "provider_ref": "PSP-8"});
    let url = format!("{}/api/v1/payments/{payment_id}/notify", app.address);
    // A stranger, unsigned, under the key the provider will use.
    let stranger = app
        .raw()
        .await
        .post(&url)
        .header("idempotency-key", "notify-P8")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    // The provider's genuine notification under the same key is run, not refused.
    let raw = serde_json::to_vec(&body).unwrap();
    let signature = cantine::web::api::payments::sign(PAYMENT_SECRET.as_bytes(), &raw);
    let genuine = app
        .raw()
        .await
        .post(&url)
        .header("idempotency-key", "notify-P8")
        .header("content-type", "application/json")
        .header("Cantine-Signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status(), 200);
    assert_eq!(payment_status(&app, payment_id).await, "succeeded");
    // Keys belong to a verified caller: two families' equal keys are two keys.
    let other = family_with_child(&app, &canteen.admin, "Martin", "Noé").await;
    for f in [&family, &other] {
        let answer = app
            .raw()
            .await
            .post(format!("{}/api/v1/reservations", app.address))
            .bearer_auth(&f.token)
            .header("idempotency-key", "same-key")
            .json(&json!({"child_id": f.child_id, "period_id": canteen.period_id, "days": ["2017-01-24"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        assert!(answer.headers().get("idempotent-replayed").is_none());
    }
}

#[tokio::test]
async fn a_signed_notification_settles_only_the_payment_it_names_and_a_reference_only_once() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let martin = family_with_child(&app, &canteen.admin, "Martin", "Noé").await;
    let dupont_payment = &pending_payment(&app, &canteen, &dupont).await;
    let martin_payment = &pending_payment(&app, &canteen, &martin).await;
    // Dupont's signed success, posted to Martin's pending payment of the same amount.
    let dupont_paid = json!({"payment_id": dupont_payment, "status": "succeeded",
        "amount": "4.15", "provider_ref": "PSP-DUPONT"});
    let events = app.event_count().await;
    crate::first_guide::notify(&app, martin_payment, dupont_paid.clone(), PAYMENT_SECRET)
        .await
        .assert_problem(422, "payment_mismatch");
    // A body that names no payment is not the provider's notification.
    crate::first_guide::notify(
        &app,
        martin_payment,
        json!({"payment_id": null, "status": "succeeded", "amount": "4.15", "provider_ref": "P"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_problem(400, "malformed_body");
    assert_eq!(app.event_count().await, events, "nothing recorded");
    assert_eq!(payment_status(&app, martin_payment).await, "pending");

    // Posted where it belongs, it settles Dupont's; its reference cannot settle Martin's.
    crate::first_guide::notify(&app, dupont_payment, dupont_paid, PAYMENT_SECRET)
        .await
        .assert_status(200);
    crate::first_guide::notify(
        &app,
        martin_payment,
        json!({"payment_id": martin_payment, "status": "succeeded", "amount": "4.15",
            "provider_ref": "PSP-DUPONT"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_problem(409, "provider_ref_reused");
    assert_eq!(payment_status(&app, martin_payment).await, "pending");
}

/// The statuses of a run of login attempts, the clock moved between some of them.
async fn attempts(app: &TestApp, login: &str, steps: &[(&str, i64)]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for (password, wait) in steps {
        app.wait_seconds(*wait);
        statuses.push(app.login(login, password).await.status.as_u16());
    }
    statuses
}

#[tokio::test]
async fn a_login_that_exists_and_one_that_does_not_are_answered_alike() {
    let app = spawn_app().await;
    app.pause_clock();
    let canteen = setup_repausset(&app).await;
    family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let (known,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE role = 'family' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let steps = [
        ("faux-1", 0),
        ("faux-2", 0),
        ("faux-2", 2),
        ("faux-3", 3),
        ("mot-de-passe", 10),
    ];
    let for_known = attempts(&app, &known, &steps).await;
    let for_unknown = attempts(&app, "personne@example.fr", &steps).await;
    assert_eq!(for_known, vec![401, 429, 401, 423, 423]);
    assert_eq!(for_unknown, for_known);
}

#[tokio::test]
async fn a_lock_stops_new_logins_but_not_the_sessions_already_open() {
    let app = spawn_app().await;
    app.pause_clock();
    let kitchen_login = format!("cuisine-{}", uuid::Uuid::new_v4().simple());
    cantine::db::accounts::insert_user(
        &app.pool,
        &kitchen_login,
        Some(&cantine::app::accounts::credentials::hash_password("cuisine-secret").unwrap()),
        Role::Kitchen,
        None,
    )
    .await
    .unwrap();
    let live = app.token(&kitchen_login, "cuisine-secret").await;
    let statuses = attempts(
        &app,
        &kitchen_login,
        &[("x", 60), ("y", 60), ("z", 60), ("cuisine-secret", 60)],
    )
    .await;
    assert_eq!(statuses, vec![401, 401, 423, 423]);
    // Whoever typed the wrong passwords did not end the kitchen's session: it is still there to
    // be closed by its owner (a dead one would answer 401).
    let logout = app.post_empty("/api/v1/auth/logout", &live).await;
    assert!(logout.status.is_success(), "{:?}", logout.body);

    // A locked staff account is unlocked from the command line (also with a new password).
    let unlock = std::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args([
            "staff",
            "unlock",
            "--login",
            &kitchen_login,
            "--password",
            "nouveau-secret",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("CANTINE_DEMO", "0")
        .output()
        .unwrap();
    assert!(unlock.status.success(), "{unlock:?}");
    app.wait_seconds(120);
    app.login(&kitchen_login, "nouveau-secret")
        .await
        .assert_status(200);
    // An administrator does the same through the API; a family's login is not a staff account.
    attempts(&app, &kitchen_login, &[("x", 60), ("y", 60), ("z", 60)]).await;
    app.wait_seconds(60);
    app.login(&kitchen_login, "nouveau-secret")
        .await
        .assert_problem(423, "account_locked");
    let admin = app.staff_token(Role::Admin).await;
    let unlocked = app
        .post(
            "/api/v1/admin/staff/unlock",
            &admin,
            json!({"login": kitchen_login}),
        )
        .await;
    assert_eq!(unlocked.assert_status(200)["locked"], false);
    app.login(&kitchen_login, "nouveau-secret")
        .await
        .assert_status(200);
    app.post(
        "/api/v1/admin/staff/unlock",
        &admin,
        json!({"login": "famille.inconnue@example.fr"}),
    )
    .await
    .assert_problem(404, "not_found");
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args(["staff", "unlock", "--login", "personne"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn an_https_deployment_refuses_the_development_key_and_the_free_simulator() {
    let database_url = fresh_database().await;
    let start = |envs: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cantine"));
        command
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("CANTINE_LISTEN", "127.0.0.1:0")
            .env("CANTINE_PUBLIC_URL", "https://cantine.example.fr")
            .env_remove("CANTINE_PAYMENT_SECRET")
            .env_remove("CANTINE_PAYMENT_PAGE_URL")
            .env_remove("CANTINE_DEMO");
        for (name, value) in envs {
            command.env(name, value);
        }
        command
    };
    let refused = start(&[]).output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("CANTINE_PAYMENT_SECRET"), "{said}");

    let refused = start(&[("CANTINE_PAYMENT_SECRET", "un-vrai-secret")])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("CANTINE_PAYMENT_PAGE_URL"), "{said}");

    // An explicit demonstration may run the simulator over https.
    let mut demo = start(&[
        ("CANTINE_PAYMENT_SECRET", "un-vrai-secret"),
        ("CANTINE_DEMO", "1"),
    ])
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (lines, printed) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut listening = false;
    while let Ok(line) = printed.recv_timeout(deadline - std::time::Instant::now()) {
        if line.contains("Cantine listens") {
            listening = true;
            break;
        }
    }
    if !listening {
        let _ = demo.kill();
        panic!("the demonstration did not start");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(demo.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = demo.wait().unwrap();
    assert!(status.success(), "{status:?}");
    reader.join().unwrap();
}

#[tokio::test]
async fn the_portals_csrf_key_is_the_services_own_not_the_payment_secret() {
    let app = spawn_app().await;
    let (csrf_key,): (Vec<u8>,) =
        sqlx::query_as("SELECT secret FROM service_keys WHERE name = 'csrf'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(csrf_key.len(), 32);
    assert_eq!(app.state.portal_secret, csrf_key);
    assert_ne!(app.state.portal_secret, PAYMENT_SECRET.as_bytes());
    // A second server on the database signs the same tokens.
    let other = spawn_app_on(app.database_url.clone(), guide_now()).await;
    assert_eq!(other.state.portal_secret, csrf_key);
}
