//! The staff back office without a browser: who opens which page (French refusals), the CSRF
//! rule on its forms, and that its pages show what the API's own routes give. The walk through
//! the pages in Chromium is `backoffice_e2e.rs`.

use cantine::domain::account::Role;
use cantine::web::pages::session::csrf_token_for_session;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_staff_login_through_the_form_lands_on_the_back_office_home() {
    let app = spawn_app().await;
    cantine::db::accounts::insert_user(
        &app.pool,
        "compta",
        Some(&cantine::app::accounts::credentials::hash_password("mot-de-passe-compta").unwrap()),
        Role::Finance,
        None,
    )
    .await
    .unwrap();
    let landed = no_redirect_client()
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
    let (status, home) = cookie_page(&app, "/gestion", &token).await;
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
        let (status, home) = cookie_page(&app, "/gestion", &token).await;
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
        let (status, text) = cookie_page(&app, "/", &token).await;
        assert_eq!(status, 403, "{role:?}");
        assert!(text.contains("Accès refusé"));
    }
    // A family session opens no back-office page.
    let (status, text) = cookie_page(&app, "/gestion", &family.token).await;
    assert_eq!(status, 403);
    assert!(
        text.contains("Accès refusé") && text.contains("lang=\"fr\""),
        "{text}"
    );
    // Without a session: the login form, as in the portal.
    let anonymous = no_redirect_client()
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
        let refused = cookie_form(&app, "/gestion/deconnexion", &token, &fields).await;
        assert_eq!(refused.status(), 403);
        let text = refused.text().await.unwrap();
        assert!(text.contains("Formulaire refusé") && text.contains("href=\"/gestion\""));
        assert_eq!(cookie_page(&app, "/gestion", &token).await.0, 200);
    }
    let csrf = csrf_token_for_session(&app.state, &token);
    let out = cookie_form(&app, "/gestion/deconnexion", &token, &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()["location"], "/connexion");
    assert_eq!(cookie_page(&app, "/gestion", &token).await.0, 401);
}

/// The page's cell of one column, as the kitchen sheet writes it.
fn cell(label: &str, value: i64) -> String {
    format!("data-label=\"{label}\">{value}</td>")
}

#[tokio::test]
async fn the_kitchen_sheet_shows_the_apis_headcount_of_the_day() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Léa").await;
    let vegetarian = app
        .post(
            &format!("/api/v1/admin/families/{}/children", martin.id),
            &canteen.admin,
            serde_json::json!({"first_name": "Paul", "last_name": "MARTIN", "meal_option": "vegetarian"}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let paid = book_and_confirm(&app, &canteen, &dupont, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &dupont, &[&paid]).await;
    let veg_family = Family {
        id: martin.id.clone(),
        token: martin.token.clone(),
        child_id: vegetarian,
    };
    book_and_confirm(&app, &canteen, &veg_family, &["2017-01-23"]).await;
    let second = book_and_confirm(&app, &canteen, &martin, &["2017-01-23"]).await;
    pay(&app, &martin, &[&second]).await;
    all_fresh(&app).await;

    let kitchen = app.staff_token(Role::Kitchen).await;
    let api = app
        .get(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await
        .assert_status(200)
        .clone();
    let day = &api[0];
    assert_eq!(day["booked"], 2, "{api}");
    assert_eq!(day["awaiting_payment"], 1, "{api}");

    let (status, sheet) = cookie_page(&app, "/gestion/cuisine?date=2017-01-23", &kitchen).await;
    assert_eq!(status, 200);
    assert!(
        sheet.contains("Effectifs cuisine du lun. 23/01/2017"),
        "{sheet}"
    );
    assert!(sheet.contains("Restaurant Scolaire Le Repausset"));
    for (label, option) in [
        ("Standard", "standard"),
        ("Végétarien", "vegetarian"),
        ("Sans porc", "no_pork"),
    ] {
        let n = day["by_meal_option"][option].as_i64().unwrap();
        assert!(sheet.contains(&cell(label, n)), "{label} {n}: {sheet}");
    }
    assert!(sheet.contains("data-label=\"Total à préparer\"><strong>2</strong>"));
    assert!(sheet.contains(&cell("En attente de paiement", 1)));
    assert!(sheet.contains(&cell("Capacité", day["capacity"].as_i64().unwrap())));
    // Printable: the sheet's stylesheet hides the frame when printing.
    let css = reqwest::get(format!("{}/portail.css", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("@media print"));

    // Today (the injected clock's day, a Wednesday without service) by default.
    let (_, today) = cookie_page(&app, "/gestion/cuisine", &kitchen).await;
    assert!(today.contains("mer. 11/01/2017") && today.contains("Pas de service"));
    // One restaurant chosen, and its CSV: the API's own.
    let (_, one) = cookie_page(
        &app,
        &format!(
            "/gestion/cuisine?date=2017-01-23&restaurant={}",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .await;
    assert!(one.contains(&format!(
        "/gestion/cuisine/{}/export?date=2017-01-23",
        canteen.restaurant_id
    )));
    let export = browser_request(
        &app,
        reqwest::Method::GET,
        &format!(
            "/gestion/cuisine/{}/export?date=2017-01-23",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(export.status(), 200);
    assert!(export.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = export.text().await.unwrap();
    let api_csv = app
        .get_csv(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await;
    assert_eq!(csv, api_csv);
    // Finance does not read the kitchen's sheet.
    let finance = app.staff_token(Role::Finance).await;
    let (status, refused) = cookie_page(&app, "/gestion/cuisine", &finance).await;
    assert_eq!(status, 403);
    assert!(refused.contains("Accès refusé"));
}

#[tokio::test]
async fn finance_pages_list_the_invoice_and_payment_of_a_paid_booking_and_export_the_month() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let id = book_and_confirm(&app, &canteen, &dupont, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &dupont, &[&id]).await;
    all_fresh(&app).await;
    let finance = app.staff_token(Role::Finance).await;
    let invoices = app
        .get(
            "/api/v1/finance/invoices?from=2017-01-01&to=2017-01-31",
            &finance,
        )
        .await
        .assert_status(200)
        .clone();
    let number = invoices[0]["number"].as_str().unwrap().to_string();

    let (status, list) =
        cookie_page(&app, "/gestion/finances/factures?mois=2017-01", &finance).await;
    assert_eq!(status, 200);
    assert!(list.contains(&number) && list.contains("DUPONT"), "{list}");
    assert!(list.contains("8,30 €"), "{list}");
    let (_, found) = cookie_page(
        &app,
        "/gestion/finances/factures?mois=2017-01&recherche=dupont",
        &finance,
    )
    .await;
    assert!(found.contains(&number) && found.contains("1 pièce(s)"));
    let (_, by_number) = cookie_page(
        &app,
        &format!("/gestion/finances/factures?mois=2017-01&recherche={number}"),
        &finance,
    )
    .await;
    assert!(by_number.contains("1 pièce(s)"));
    let (_, none) = cookie_page(
        &app,
        "/gestion/finances/factures?mois=2017-01&recherche=martin",
        &finance,
    )
    .await;
    assert!(none.contains("0 pièce(s)") && !none.contains(&number));
    let (_, february) =
        cookie_page(&app, "/gestion/finances/factures?mois=2017-02", &finance).await;
    assert!(!february.contains(&number));
    // A month that cannot be read: said next to the field, the current month shown.
    let (status, wrong) =
        cookie_page(&app, "/gestion/finances/factures?mois=janvier", &finance).await;
    assert_eq!(status, 200);
    assert!(wrong.contains("id=\"mois-erreur\"") && wrong.contains(&number));

    let (_, payments) =
        cookie_page(&app, "/gestion/finances/paiements?mois=2017-01", &finance).await;
    assert!(
        payments.contains("DUPONT") && payments.contains("✓ Réussi"),
        "{payments}"
    );
    let (_, failed) = cookie_page(
        &app,
        "/gestion/finances/paiements?mois=2017-01&statut=failed",
        &finance,
    )
    .await;
    assert!(failed.contains("0 paiement(s)") && !failed.contains("DUPONT"));

    let (_, summary) = cookie_page(&app, "/gestion/finances?mois=2017-01", &finance).await;
    assert!(summary.contains("Le mois est équilibré"), "{summary}");
    assert!(summary.contains("Restaurant Scolaire Le Repausset"));
    let report = app
        .get("/api/v1/finance/reconciliation?month=2017-01", &finance)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(report["balanced"], true);
    assert_eq!(report["totals"]["paid"], "8.30");

    // The exports: the API's own CSV, for the cookie session.
    for (document, api_path) in [
        ("invoices", "/api/v1/finance/exports/invoices?month=2017-01"),
        ("payments", "/api/v1/finance/exports/payments?month=2017-01"),
        ("refunds", "/api/v1/finance/exports/refunds?month=2017-01"),
        (
            "credit-notes",
            "/api/v1/finance/exports/credit-notes?month=2017-01",
        ),
        (
            "reconciliation",
            "/api/v1/finance/reconciliation?month=2017-01",
        ),
    ] {
        assert!(summary.contains(&format!(
            "/gestion/finances/exports/{document}?mois=2017-01"
        )));
        let response = browser_request(
            &app,
            reqwest::Method::GET,
            &format!("/gestion/finances/exports/{document}?mois=2017-01&format=fr"),
            &finance,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(response.status(), 200, "{document}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"));
        let page_csv = response.text().await.unwrap();
        let api_csv = app
            .get_csv(&format!("{api_path}&format=fr"), &finance)
            .await;
        assert_eq!(page_csv, api_csv, "{document}");
    }
    let invoices_csv = app
        .get_csv("/api/v1/finance/exports/invoices?month=2017-01", &finance)
        .await;
    assert!(invoices_csv.contains(&number));
    // Kitchen and admin do not read the finance pages, as in the API.
    for role in [Role::Kitchen, Role::Admin] {
        let token = app.staff_token(role).await;
        assert_eq!(cookie_page(&app, "/gestion/finances", &token).await.0, 403);
        assert_eq!(
            cookie_page(
                &app,
                "/gestion/finances/exports/invoices?mois=2017-01",
                &token
            )
            .await
            .0,
            403
        );
    }
}

const BOUNDARY: &str = "x-cantine-test-boundary";

/// A multipart upload form, as a browser sends it.
fn upload_body(csrf: Option<&str>, title: &str, kind: &str, file: (&str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    let mut text = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        text("csrf", csrf);
    }
    text("titre", title);
    text("nature", kind);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{}\"\r\n\
             Content-Type: application/pdf\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, token: &str, body: Vec<u8>) -> reqwest::Response {
    browser_request(app, reqwest::Method::POST, "/gestion/documents", token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn document_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM documents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    n
}

/// A small, real-looking PDF (the check reads its signature).
fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(70_000));
    bytes.extend_from_slice(b"\nstartxref\n0\n%%EOF\n");
    bytes
}

#[tokio::test]
async fn refused_uploads_say_why_next_to_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let csrf = csrf_token_for_session(&app.state, &admin);
    let mut too_large = b"%PDF-1.4\n".to_vec();
    too_large.resize(5 * 1024 * 1024 + 1, b' ');
    let cases: [(&str, Vec<u8>, &str, &str); 4] = [
        (
            "Règlement",
            b"GIF89a not a pdf".to_vec(),
            "rules",
            "fichier-erreur",
        ),
        ("Règlement", too_large, "rules", "fichier-erreur"),
        ("   ", pdf(), "rules", "titre-erreur"),
        ("Règlement", pdf(), "menu", "nature-erreur"),
    ];
    for (title, bytes, kind, error) in cases {
        let response = upload(
            &app,
            &admin,
            upload_body(Some(&csrf), title, kind, ("r.pdf", &bytes)),
        )
        .await;
        assert_eq!(response.status(), 422, "{error}");
        let text = response.text().await.unwrap();
        assert!(text.contains(&format!("id=\"{error}\"")), "{error}: {text}");
        assert!(text.contains("n'a pas été publié"));
        assert_eq!(document_count(&app).await, 0);
    }
    // Without the session's CSRF token, or by a role other than admin: refused before reading.
    let refused = upload(
        &app,
        &admin,
        upload_body(None, "Règlement", "rules", ("r.pdf", &pdf())),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("Formulaire refusé"));
    let kitchen = app.staff_token(Role::Kitchen).await;
    let kitchen_csrf = csrf_token_for_session(&app.state, &kitchen);
    let refused = upload(
        &app,
        &kitchen,
        upload_body(Some(&kitchen_csrf), "Règlement", "rules", ("r.pdf", &pdf())),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(document_count(&app).await, 0);
}

#[tokio::test]
async fn a_published_document_reaches_its_families_byte_for_byte_until_withdrawn() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let admin = app.staff_token(Role::Admin).await;
    let csrf = csrf_token_for_session(&app.state, &admin);
    let bytes = pdf();
    let published = upload(
        &app,
        &admin,
        upload_body(
            Some(&csrf),
            "Règlement de la cantine 2016-2017",
            "rules",
            ("C:\\Documents\\Règlement cantine.pdf", &bytes),
        ),
    )
    .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        published.headers()["location"],
        "/gestion/documents?fait=publie"
    );
    let (id,): (uuid::Uuid,) = sqlx::query_as("SELECT id FROM documents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (_, admin_page) = cookie_page(&app, "/gestion/documents?fait=publie", &admin).await;
    assert!(admin_page.contains("Document publié"));
    assert!(admin_page.contains("Règlement de la cantine 2016-2017"));
    assert!(admin_page.contains("Visible des familles"));

    // The family finds it from its home page, and downloads exactly what was sent.
    let (_, home) = cookie_page(&app, "/", &dupont.token).await;
    assert!(home.contains("href=\"/documents\""));
    let (status, list) = cookie_page(&app, "/documents", &dupont.token).await;
    assert_eq!(status, 200);
    assert!(list.contains("Règlement de la cantine 2016-2017"));
    assert!(list.contains(&format!("/documents/{id}")));
    let download = browser_request(
        &app,
        reqwest::Method::GET,
        &format!("/documents/{id}"),
        &dupont.token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''R%C3%A8glement%20cantine.pdf"),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // Staff do not use the family's page; families do not use the admin's.
    assert_eq!(
        cookie_page(&app, &format!("/documents/{id}"), &admin)
            .await
            .0,
        403
    );
    assert_eq!(
        cookie_page(&app, &format!("/gestion/documents/{id}"), &dupont.token)
            .await
            .0,
        403
    );

    // Another organisation's document is not the family's to read.
    let other_org = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO organisations (id, name) VALUES ($1, 'Autre commune')")
        .bind(other_org)
        .execute(&app.pool)
        .await
        .unwrap();
    let (admin_id,): (uuid::Uuid,) =
        sqlx::query_as("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let foreign = uuid::Uuid::now_v7();
    cantine::db::documents::insert(
        &app.pool,
        cantine::db::documents::NewDocumentRow {
            id: foreign,
            organisation_id: other_org,
            title: "Règlement d'ailleurs",
            kind: "rules",
            file_name: "ailleurs.pdf",
            content_type: "application/pdf",
            bytes: b"%PDF-1.4 ailleurs",
            uploaded_by: admin_id,
            uploaded_at: guide_now(),
        },
    )
    .await
    .unwrap();
    let (status, text) = cookie_page(&app, &format!("/documents/{foreign}"), &dupont.token).await;
    assert_eq!(status, 404);
    assert!(text.contains("Page introuvable"));
    assert!(!cookie_page(&app, "/documents", &dupont.token)
        .await
        .1
        .contains("ailleurs"));
    assert_eq!(
        cookie_page(&app, &format!("/gestion/documents/{foreign}"), &admin)
            .await
            .0,
        404
    );

    // Withdrawn: gone for families, kept (and marked) for the administrators.
    let withdrawn = cookie_form(
        &app,
        &format!("/gestion/documents/{id}/retrait"),
        &admin,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        cookie_page(&app, &format!("/documents/{id}"), &dupont.token)
            .await
            .0,
        404
    );
    let (_, list) = cookie_page(&app, "/documents", &dupont.token).await;
    assert!(list.contains("Aucun document"));
    let (_, admin_page) = cookie_page(&app, "/gestion/documents", &admin).await;
    assert!(admin_page.contains("Retiré le"));
    assert_eq!(
        cookie_page(&app, &format!("/gestion/documents/{id}"), &admin)
            .await
            .0,
        200
    );
    // A second withdrawal finds nothing to withdraw.
    let again = cookie_form(
        &app,
        &format!("/gestion/documents/{id}/retrait"),
        &admin,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn the_api_lists_and_serves_the_same_documents_and_lets_admins_withdraw_them() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let admin = app.staff_token(Role::Admin).await;
    let csrf = csrf_token_for_session(&app.state, &admin);
    let bytes = pdf();
    let published = upload(
        &app,
        &admin,
        upload_body(
            Some(&csrf),
            "Délibération tarifaire",
            "tariffs",
            ("tarifs.pdf", &bytes),
        ),
    )
    .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    let list = app
        .get("/api/v1/documents", &dupont.token)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["title"], "Délibération tarifaire");
    assert_eq!(list[0]["kind"], "tariffs");
    assert_eq!(list[0]["size"], bytes.len());
    let id = list[0]["id"].as_str().unwrap().to_string();
    let file = app
        .raw()
        .await
        .get(format!("{}/api/v1/documents/{id}", app.address))
        .bearer_auth(&dupont.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // Kitchen staff may not withdraw; an administrator may, once.
    let kitchen = app.staff_token(Role::Kitchen).await;
    let delete = |token: String| {
        let url = format!("{}/api/v1/admin/documents/{id}", app.address);
        async move {
            no_redirect_client()
                .delete(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(kitchen).await, 403);
    assert_eq!(delete(admin.clone()).await, 204);
    assert_eq!(delete(admin).await, 404);
    app.get(&format!("/api/v1/documents/{id}"), &dupont.token)
        .await
        .assert_problem(404, "not_found");
    let list = app
        .get("/api/v1/documents", &dupont.token)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(list, serde_json::json!([]));
}
