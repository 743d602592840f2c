//! The administrators' pages of the back office without a browser: who opens them (French
//! refusals), the CSRF rule, and that what the forms change is what the API then reports,
//! while a refused form says why next to the field and changes nothing. The walk in Chromium is
//! `backoffice_admin_e2e.rs`.

use cantine::domain::account::Role;
use cantine::web::pages::session::csrf_token_for_session;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// A form as the browser sends it: the session's cookie and CSRF token, then the fields.
async fn submit(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, Option<String>) {
    let csrf = csrf_token_for_session(&app.state, token);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let response = cookie_form(app, path, token, &all).await;
    let (status, location) = (response.status(), location(&response));
    (status, response.text().await.unwrap(), location)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn admin_pages_open_to_admins_only_with_french_refusals() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let pages = [
        ("/gestion/familles".to_string(), "DUPONT"),
        (format!("/gestion/familles/{}", family.id), "Hervé"),
        ("/gestion/restaurants".to_string(), "Le Repausset"),
        (
            format!("/gestion/restaurants/{}", canteen.restaurant_id),
            "Modifier le restaurant",
        ),
        ("/gestion/periodes".to_string(), "Vous devez réserver avant"),
        (
            format!("/gestion/periodes/{}", canteen.period_id),
            "Ajouter une grille de prix",
        ),
    ];
    for (path, shown) in &pages {
        let (status, text) = cookie_page(&app, path, &canteen.admin).await;
        assert_eq!(status, 200, "{path}");
        assert!(text.contains("lang=\"fr\""), "{path}");
        assert!(text.contains(shown), "{path}: {shown}");
        // Every field has its label.
        for id in field_ids(&text) {
            assert!(
                text.contains(&format!("for=\"{id}\"")),
                "{path}: field {id} has no label"
            );
        }
    }
    for role in [Role::Kitchen, Role::Finance, Role::Auditor] {
        let token = app.staff_token(role).await;
        for (path, _) in &pages {
            let (status, text) = cookie_page(&app, path, &token).await;
            assert_eq!(status, 403, "{role:?} {path}");
            assert!(
                text.contains("Accès refusé") && text.contains("pas ouverte à votre rôle"),
                "{role:?} {path}"
            );
        }
        let (_, home) = cookie_page(&app, "/gestion", &token).await;
        assert!(!home.contains("href=\"/gestion/familles\""), "{role:?}");
    }
    for (path, _) in &pages {
        let (status, text) = cookie_page(&app, path, &family.token).await;
        assert_eq!(status, 403, "{path}");
        assert!(text.contains("réservé au personnel"), "{path}");
    }
    // The admin's home and navigation lead to the three sections.
    let (_, home) = cookie_page(&app, "/gestion", &canteen.admin).await;
    for path in [
        "/gestion/familles",
        "/gestion/restaurants",
        "/gestion/periodes",
    ] {
        assert!(home.contains(&format!("href=\"{path}\"")), "{path}");
    }
}

/// The ids of the page's inputs and selects (hidden ones aside).
fn field_ids(html: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for tag in ["<input ", "<select "] {
        for (start, _) in html.match_indices(tag) {
            let element = &html[start..start + html[start..].find('>').unwrap()];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element
                .split("id=\"")
                .nth(1)
                .map(|rest| rest.split('"').next().unwrap().to_string())
                .unwrap_or_else(|| panic!("a field without an id: {element}"));
            ids.push(id);
        }
    }
    ids
}

#[tokio::test]
async fn admin_forms_need_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let other = app.staff_token(Role::Admin).await;
    for csrf in [String::new(), csrf_token_for_session(&app.state, &other)] {
        let refused = browser_request(&app, reqwest::Method::POST, "/gestion/familles", &admin)
            .form(&[
                ("csrf", csrf.as_str()),
                ("nom", "MARTIN"),
                ("email", "martin@example.fr"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("Formulaire refusé"));
        assert_eq!(count(&app, "families").await, 0);
    }
}

#[tokio::test]
async fn a_family_created_on_the_page_is_listed_and_logs_in_after_the_password_email() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let (status, _, location) = submit(
        &app,
        "/gestion/familles",
        &admin,
        &[
            ("nom", "MARTIN"),
            ("email", "martin@example.fr"),
            ("quotient", "450"),
            ("envoyer_mail", "oui"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.ends_with("?fait=creee-mail#contenu"), "{location}");
    let id = location
        .trim_start_matches("/gestion/familles/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, family_page) = cookie_page(&app, &location, &admin).await;
    assert!(family_page.contains("Famille MARTIN"));
    assert!(family_page.contains("Générer votre mot de passe"));
    assert!(family_page.contains("450 €"));
    // The API reports what the page did.
    let shown = app
        .get(&format!("/api/v1/admin/families/{id}"), &admin)
        .await;
    let shown = shown.assert_status(200);
    assert_eq!(shown["login"], "martin@example.fr");
    assert_eq!(shown["quotient_familial"], 450);
    assert_eq!(shown["has_password"], false);
    // Listed, and found by name or e-mail; another search leaves it out.
    let (_, list) = cookie_page(&app, "/gestion/familles", &admin).await;
    assert!(list.contains("MARTIN") && list.contains("martin@example.fr"));
    let (_, found) = cookie_page(&app, "/gestion/familles?q=MARTIN%40EXAMPLE", &admin).await;
    assert!(found.contains(&format!("/gestion/familles/{id}")));
    let (_, other) = cookie_page(&app, "/gestion/familles?q=dupont", &admin).await;
    assert!(!other.contains(&format!("/gestion/familles/{id}")));
    assert!(other.contains("0 famille pour « dupont »"));
    // The family chooses its password with the e-mailed link, then logs in.
    let link = app.password_link_token("martin@example.fr", 1).await;
    app.request(
        reqwest::Method::POST,
        "/api/v1/auth/password",
        None,
        Some(json!({"token": link, "new_password": "mot-de-passe-martin"})),
    )
    .await
    .assert_status(200);
    app.login("martin@example.fr", "mot-de-passe-martin")
        .await
        .assert_status(200);
    // The family page's button sends the e-mail again.
    let (status, _, location) = submit(
        &app,
        &format!("/gestion/familles/{id}/mot-de-passe"),
        &admin,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.unwrap(),
        format!("/gestion/familles/{id}?fait=mail#contenu")
    );
    app.password_link_token("martin@example.fr", 2).await;
}

#[tokio::test]
async fn many_families_are_listed_a_page_at_a_time() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    for n in 0..23 {
        app.post(
            "/api/v1/admin/families",
            &admin,
            json!({"name": format!("FAMILLE {n:02}"), "login": format!("f{n}@example.fr")}),
        )
        .await
        .assert_status(201);
    }
    let (_, first) = cookie_page(&app, "/gestion/familles", &admin).await;
    assert!(first.contains("23 familles en tout"));
    assert!(first.contains("FAMILLE 19") && !first.contains("FAMILLE 20"));
    assert!(first.contains("Page 1 sur 2") && first.contains("Page suivante"));
    let (_, second) = cookie_page(&app, "/gestion/familles?q=&page=2", &admin).await;
    assert!(second.contains("FAMILLE 22") && !second.contains("FAMILLE 19"));
}

#[tokio::test]
async fn a_locked_account_shows_since_when_and_is_unlocked_on_its_page() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let login = family_login_of(&app, &family.id).await;
    for wrong in ["faux-1", "faux-2", "faux-3"] {
        app.login(&login, wrong).await;
        app.wait_seconds(60);
    }
    app.login(&login, "mot-de-passe")
        .await
        .assert_problem(423, "account_locked");
    let path = format!("/gestion/familles/{}", family.id);
    let (_, before) = cookie_page(&app, &path, &canteen.admin).await;
    assert!(before.contains("verrouillé depuis le"), "{before}");
    assert!(before.contains("Déverrouiller le compte"));
    let (status, _, location) =
        submit(&app, &format!("{path}/deverrouillage"), &canteen.admin, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.unwrap(),
        format!("{path}?fait=deverrouillee#contenu")
    );
    let (_, after) = cookie_page(&app, &format!("{path}?fait=deverrouillee"), &canteen.admin).await;
    assert!(after.contains("Le compte est déverrouillé"));
    assert!(after.contains("pas verrouillé") && !after.contains("Déverrouiller le compte"));
    app.get(
        &format!("/api/v1/admin/families/{}", family.id),
        &canteen.admin,
    )
    .await
    .assert_status(200);
    app.login(&login, "mot-de-passe").await.assert_status(200);
    // A disabled account gets no password e-mail: the page says why, in French.
    let (status, _, _) = submit(&app, &format!("{path}/desactivation"), &canteen.admin, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.login(&login, "mot-de-passe")
        .await
        .assert_problem(403, "account_disabled");
    let sent = app.mail_to(&login).len();
    let (status, text, _) =
        submit(&app, &format!("{path}/mot-de-passe"), &canteen.admin, &[]).await;
    assert_eq!(status, 409);
    assert!(text.contains("Le mail n'est pas parti") && text.contains("réactivez-le"));
    assert!(text.contains("✗ Désactivé depuis le"));
    assert_eq!(app.mail_to(&login).len(), sent);
    assert!(text.contains("Réactiver le compte"));
    let (status, _, _) = submit(&app, &format!("{path}/activation"), &canteen.admin, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.wait_seconds(60);
    app.login(&login, "mot-de-passe").await.assert_status(200);
    // A family, restaurant or period that does not exist: a French 404 page.
    for path in [
        "/gestion/familles/0193a000-0000-7000-8000-000000000000",
        "/gestion/restaurants/0193a000-0000-7000-8000-000000000000",
        "/gestion/periodes/0193a000-0000-7000-8000-000000000000",
    ] {
        let (status, text) = cookie_page(&app, path, &canteen.admin).await;
        assert_eq!(status, 404, "{path}");
        assert!(text.contains("Page introuvable"), "{path}");
    }
}

async fn family_login_of(app: &TestApp, family_id: &str) -> String {
    let (login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE family_id = $1::text::uuid")
            .bind(family_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    login
}

/// Everything the administrators' forms may change, to prove a refusal changed nothing.
async fn stored(app: &TestApp) -> String {
    let (digest,): (String,) = sqlx::query_as(
        "SELECT md5(concat_ws('|',
            (SELECT string_agg(id || name || capacity, ',' ORDER BY id) FROM restaurants),
            (SELECT string_agg(id || rules::text, ',' ORDER BY id) FROM periods),
            (SELECT count(*) FROM tariff_brackets),
            (SELECT string_agg(id || name || coalesce(quotient_familial::text, ''), ',' ORDER BY id) FROM families),
            (SELECT string_agg(id || first_name || last_name || meal_option, ',' ORDER BY id) FROM children),
            (SELECT string_agg(id || login, ',' ORDER BY id) FROM users),
            (SELECT string_agg(period_id || date::text || capacity, ',' ORDER BY period_id, date) FROM capacity_overrides)))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    digest
}

/// A refused form: 422, the French message next to the field (tied to it), the typed values
/// shown again, and nothing stored changed.
async fn refused(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
    field_id: &str,
    message: &str,
) -> String {
    let before = stored(app).await;
    let (status, text, _) = submit(app, path, token, fields).await;
    assert_eq!(status, 422, "{path} {fields:?}: {text}");
    assert!(text.contains(message), "{path}: {message}\n{text}");
    assert!(
        text.contains(&format!("id=\"{field_id}-erreur\"")),
        "{path}: error next to {field_id}"
    );
    assert!(
        text.contains(&format!("aria-describedby=\"{field_id}-erreur")),
        "{path}: {field_id} described by its error"
    );
    assert!(text.contains("rien n'a été modifié"), "{path}");
    for (name, value) in fields {
        if !value.is_empty() && *name != "menu" {
            assert!(
                text.contains(&format!("value=\"{value}\"")),
                "{path}: {name} filled in again"
            );
        }
    }
    assert_eq!(stored(app).await, before, "{path}: nothing changed");
    text
}

#[tokio::test]
async fn bad_input_is_refused_in_french_next_to_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let admin = &canteen.admin;
    let family = family_with_child(&app, admin, "DUPONT", "Hervé").await;
    let other = family_with_child(&app, admin, "MARTIN", "Inès").await;
    let other_login = family_login_of(&app, &other.id).await;
    let families = "/gestion/familles";
    refused(
        &app,
        families,
        admin,
        &[("nom", "LEROY"), ("email", "leroy-sans-arobase")],
        "email",
        "Écrivez une adresse e-mail valide",
    )
    .await;
    refused(
        &app,
        families,
        admin,
        &[("nom", "LEROY"), ("email", &other_login)],
        "email",
        "déjà celle d'un autre compte",
    )
    .await;
    refused(
        &app,
        families,
        admin,
        &[("nom", "  "), ("email", "leroy@example.fr")],
        "nom",
        "Ce champ est obligatoire",
    )
    .await;
    refused(
        &app,
        families,
        admin,
        &[
            ("nom", "LEROY"),
            ("email", "leroy@example.fr"),
            ("quotient", "-5"),
        ],
        "quotient",
        "zéro ou plus",
    )
    .await;
    refused(
        &app,
        families,
        admin,
        &[
            ("nom", "LEROY"),
            ("email", "leroy@example.fr"),
            ("quotient", "beaucoup"),
        ],
        "quotient",
        "nombre entier",
    )
    .await;
    let family_path = format!("/gestion/familles/{}", family.id);
    // The quotient is refused before the name changes: nothing of the form is kept.
    refused(
        &app,
        &family_path,
        admin,
        &[
            ("nom", "DUPONT-DURAND"),
            ("email", "dupont-durand@example.fr"),
            ("quotient", "12,5"),
        ],
        "quotient",
        "nombre entier",
    )
    .await;
    refused(
        &app,
        &family_path,
        admin,
        &[
            ("nom", "DUPONT-DURAND"),
            ("email", &other_login),
            ("quotient", ""),
        ],
        "email",
        "déjà celle d'un autre compte",
    )
    .await;
    let child_path = format!("{family_path}/enfants/{}", family.child_id);
    let text = refused(
        &app,
        &child_path,
        admin,
        &[("prenom", ""), ("nom", "DUPONT"), ("menu", "vegetarian")],
        // The child's own form shows the error, under ids of its own.
        &format!("enfant-{}-prenom", family.child_id),
        "Ce champ est obligatoire",
    )
    .await;
    assert!(text.contains("<details open"));
    refused(
        &app,
        &format!("{family_path}/enfants"),
        admin,
        &[("prenom", "Léa"), ("nom", "DUPONT"), ("menu", "halal")],
        "nouvel-enfant-menu",
        "Choisissez un des menus proposés",
    )
    .await;
    refused(
        &app,
        "/gestion/restaurants",
        admin,
        &[("nom", "Cantine du Port"), ("capacite", "-1")],
        "capacite",
        "zéro ou plus",
    )
    .await;
    refused(
        &app,
        &format!("/gestion/restaurants/{}", canteen.restaurant_id),
        admin,
        &[("nom", "Le Repausset"), ("capacite", "cent")],
        "capacite",
        "nombre entier",
    )
    .await;
    let period = format!("/gestion/periodes/{}", canteen.period_id);
    refused(
        &app,
        &format!("{period}/fermetures"),
        admin,
        &[
            ("lignes", "2"),
            ("libelle-0", "Noël"),
            ("du-0", "2016-12-17"),
            ("au-0", "2017-01-02"),
            ("libelle-1", "Grève"),
            ("du-1", "2017-01-27"),
            ("au-1", "2017-01-26"),
        ],
        "au-1",
        "La fin de la fermeture est avant son début",
    )
    .await;
    refused(
        &app,
        &format!("{period}/capacite"),
        admin,
        &[("date", "2017-01-25"), ("capacite", "80")],
        "date",
        "ne sert pas ce jour-là",
    )
    .await;
    refused(
        &app,
        &format!("{period}/tarifs"),
        admin,
        &[
            ("debut", "2017-02-01"),
            ("plafond-0", "800"),
            ("prix-0", "2,00"),
            ("plafond-1", "500"),
            ("prix-1", "3,00"),
            ("prix-haut", "4,97"),
        ],
        "tranches",
        "aller en croissant",
    )
    .await;
    refused(
        &app,
        &format!("{period}/tarifs"),
        admin,
        &[
            ("debut", "2017-02-01"),
            ("plafond-0", "500"),
            ("prix-0", "gratuit"),
            ("prix-haut", "4,97"),
        ],
        "prix-0",
        "Écrivez un montant",
    )
    .await;
}

#[tokio::test]
async fn families_children_and_restaurants_edited_on_the_pages_are_what_the_api_reports() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let admin = &canteen.admin;
    let family = family_with_child(&app, admin, "DUPONT", "Hervé").await;
    let path = format!("/gestion/familles/{}", family.id);
    let (status, _, _) = submit(
        &app,
        &path,
        admin,
        &[
            ("nom", "DUPONT-DURAND"),
            ("email", "dupont-durand@example.fr"),
            ("quotient", "620"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let shown = app
        .get(&format!("/api/v1/admin/families/{}", family.id), admin)
        .await;
    let shown = shown.assert_status(200);
    assert_eq!(shown["name"], "DUPONT-DURAND");
    assert_eq!(shown["login"], "dupont-durand@example.fr");
    assert_eq!(shown["quotient_familial"], 620);
    let (status, _, _) = submit(
        &app,
        &format!("{path}/enfants/{}", family.child_id),
        admin,
        &[
            ("prenom", "Hervé"),
            ("nom", "DUPONT"),
            ("menu", "vegetarian"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, location) = submit(
        &app,
        &format!("{path}/enfants"),
        admin,
        &[("prenom", "Léa"), ("nom", "DUPONT"), ("menu", "no_pork")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().ends_with("?fait=enfant-ajoute#contenu"));
    // The family reads its children through its own API route.
    let token = app.token("dupont-durand@example.fr", "mot-de-passe").await;
    let mine = app.get("/api/v1/family", &token).await;
    let children = mine.assert_status(200)["children"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hervé", "Léa"]);
    let (_, text) = cookie_page(&app, &path, admin).await;
    assert!(text.contains("Menu : Végétarien") && text.contains("Menu : Sans porc"));
    // Restaurants: created, then edited.
    let (status, _, _) = submit(
        &app,
        "/gestion/restaurants",
        admin,
        &[("nom", "Cantine du Port"), ("capacite", "80")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, list) = cookie_page(&app, "/gestion/restaurants", admin).await;
    assert!(list.contains("Cantine du Port"));
    let (status, _, _) = submit(
        &app,
        &format!("/gestion/restaurants/{}", canteen.restaurant_id),
        admin,
        &[("nom", "Le Repausset"), ("capacite", "150")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let edited = app
        .raw()
        .await
        .patch(format!(
            "{}/api/v1/admin/restaurants/{}",
            app.address, canteen.restaurant_id
        ))
        .bearer_auth(admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let edited: serde_json::Value = edited.json().await.unwrap();
    assert_eq!(edited["name"], "Le Repausset");
    assert_eq!(edited["capacity"], 150);
    let establishments = app.get("/api/v1/establishments", &token).await;
    assert!(establishments
        .assert_status(200)
        .to_string()
        .contains("Le Repausset"));
}

#[tokio::test]
async fn closures_capacities_and_prices_edited_on_the_period_page_are_what_the_api_reports() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let admin = &canteen.admin;
    let family = family_with_child(&app, admin, "DUPONT", "Hervé").await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-26"]).await;
    let period = format!("/gestion/periodes/{}", canteen.period_id);
    // The period's two closures, and a strike on a day a meal is booked.
    let (status, text, _) = submit(
        &app,
        &format!("{period}/fermetures"),
        admin,
        &[
            ("lignes", "5"),
            ("libelle-0", "Noël"),
            ("du-0", "2016-12-17"),
            ("au-0", "2017-01-02"),
            ("libelle-1", "Hiver"),
            ("du-1", "18/02/2017"),
            ("au-1", "05/03/2017"),
            ("libelle-2", "Grève"),
            ("du-2", "2017-01-26"),
            ("au-2", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("Fermetures enregistrées : 3 en tout."));
    assert!(text.contains("Des repas sont déjà réservés") && text.contains("jeu. 26/01/2017"));
    let establishments = app.get("/api/v1/establishments", &family.token).await;
    let closures = establishments.assert_status(200)[0]["periods"][0]["closures"].clone();
    assert_eq!(
        closures,
        json!([
            {"from": "2016-12-17", "to": "2017-01-02", "label": "Noël"},
            {"from": "2017-02-18", "to": "2017-03-05", "label": "Hiver"},
            {"from": "2017-01-26", "to": "2017-01-26", "label": "Grève"}
        ])
    );
    // A day's capacity: none left that Monday (a school trip).
    let (status, _, location) = submit(
        &app,
        &format!("{period}/capacite"),
        admin,
        &[("date", "2017-01-30"), ("capacite", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.unwrap(), format!("{period}?fait=capacite#contenu"));
    let (_, text) = cookie_page(&app, &period, admin).await;
    assert!(text.contains("lun. 30/01/2017"));
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
                family.child_id, canteen.period_id
            ),
            &family.token,
        )
        .await;
    let monday = calendar.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2017-01-30")
        .unwrap()
        .clone();
    assert_eq!(monday["status"], "full");
    // A price list by quotient familial.
    let (status, _, location) = submit(
        &app,
        &format!("{period}/tarifs"),
        admin,
        &[
            ("debut", "2017-02-01"),
            ("plafond-0", "500"),
            ("prix-0", "1,50"),
            ("plafond-1", "1000"),
            ("prix-1", "3"),
            ("prix-haut", "4,97 €"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.unwrap(), format!("{period}?fait=tarifs#contenu"));
    let lists = app
        .get(
            &format!("/api/v1/admin/periods/{}/tariffs", canteen.period_id),
            admin,
        )
        .await;
    assert_eq!(
        lists.assert_status(200),
        &json!([{
            "period_id": canteen.period_id,
            "effective_from": "2017-02-01",
            "brackets": [
                {"up_to": 500, "unit_price": "1.50"},
                {"up_to": 1000, "unit_price": "3.00"},
                {"up_to": null, "unit_price": "4.97"}
            ]
        }])
    );
    let (_, text) = cookie_page(&app, &period, admin).await;
    assert!(text.contains("Grille à partir du 01/02/2017 – à venir"));
    assert!(text.contains("De 501 € à 1000 €") && text.contains("1,50 €"));
    assert!(text.contains("Au-delà de 1000 €") && text.contains("4,97 €"));
    // The same date again: refused next to the date, nothing added.
    let text = refused(
        &app,
        &format!("{period}/tarifs"),
        admin,
        &[("debut", "2017-02-01"), ("prix-haut", "5,00")],
        "debut",
        "déjà une grille à partir de cette date",
    )
    .await;
    assert!(text.contains("value=\"5,00\""));
}

#[tokio::test]
async fn a_period_created_on_the_page_is_the_apis_and_a_bad_one_changes_nothing() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let admin = &canteen.admin;
    let family = family_with_child(&app, admin, "DUPONT", "Hervé").await;
    let form = |from: &'static str, to: &'static str, monday: &'static str| {
        vec![
            ("restaurant", canteen.restaurant_id.clone()),
            ("activite", "CENTRE DE LOISIRS".to_string()),
            ("libelle", "Mercredis 2017".to_string()),
            ("du", from.to_string()),
            ("au", to.to_string()),
            ("jour-wed", monday.to_string()),
            ("feries", "oui".to_string()),
            ("service", "REPAS".to_string()),
            ("debut_service", "12:00".to_string()),
            ("fin_service", "13:30".to_string()),
            ("delai", "jours".to_string()),
            ("delai_jour", "tue".to_string()),
            ("delai_nombre", "3".to_string()),
            ("delai_heure", "10:00".to_string()),
            ("paiement", "fin_de_mois".to_string()),
            ("attente", "60".to_string()),
            ("prix", "3,80".to_string()),
            ("capacite", "".to_string()),
        ]
    };
    let as_fields =
        |form: &[(&'static str, String)]| -> Vec<(&'static str, String)> { form.to_vec() };
    // The end before the start, then no opening day: refused where it belongs.
    for (fields, field_id, message) in [
        (
            as_fields(&form("2017-03-01", "2017-02-01", "oui")),
            "au",
            "La fin de la période est avant son début",
        ),
        (
            as_fields(&form("2017-03-01", "2017-06-30", "")),
            "jours",
            "Cochez au moins un jour d'ouverture",
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let before = stored(&app).await;
        let (status, text, _) = submit(&app, "/gestion/periodes", admin, &fields).await;
        assert_eq!(status, 422, "{text}");
        assert!(text.contains(message), "{message}");
        assert!(text.contains(&format!("id=\"{field_id}-erreur\"")));
        assert!(text.contains("value=\"Mercredis 2017\""));
        assert_eq!(stored(&app).await, before);
    }
    let fields = form("2017-03-01", "2017-06-30", "oui");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, location) = submit(&app, "/gestion/periodes", admin, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.ends_with("?fait=creee#contenu"), "{location}");
    let (_, text) = cookie_page(&app, &location, admin).await;
    assert!(text.contains("Période créée"));
    assert!(text.contains("Facturé en fin de mois"));
    // The families see it with its rules, the restaurant's capacity and the public holidays.
    let establishments = app.get("/api/v1/establishments", &family.token).await;
    let periods = establishments.assert_status(200)[0]["periods"].clone();
    let created = periods
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == "Mercredis 2017")
        .expect("the new period")
        .clone();
    assert_eq!(created["opening_days"], json!(["wed"]));
    assert_eq!(created["unit_price"], "3.80");
    assert_eq!(created["capacity"], 120);
    assert_eq!(created["payment"], json!({"mode": "postpaid"}));
    assert!(created["closures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["label"] == "Lundi de Pâques"));
}

/// The kitchen's login, locked out by three wrong passwords, is unlocked on the staff page; a
/// colleague who lost their password gets a new one there, shown once, and their old sessions end.
#[tokio::test]
async fn a_locked_out_colleague_is_unlocked_and_given_a_new_password_on_the_staff_page() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let kitchen_token = app.staff_token(Role::Kitchen).await;
    let (kitchen_login, kitchen_id): (String, String) =
        sqlx::query_as("SELECT login, id::text FROM users WHERE role = 'kitchen'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    for wrong in ["faux-1", "faux-2", "faux-3"] {
        app.login(&kitchen_login, wrong).await;
        app.wait_seconds(60);
    }
    app.login(&kitchen_login, "staff-password")
        .await
        .assert_problem(423, "account_locked");

    let (status, list) = cookie_page(&app, "/gestion/personnel", &admin).await;
    assert_eq!(status, 200);
    assert!(list.contains(&kitchen_login) && list.contains("Cuisine"));
    assert!(list.contains("Verrouillé depuis le"), "{list}");
    assert!(list.contains("(vous)"), "the admin's own row is marked");
    // The admin's own row offers no new password (that is "Mon compte", with the current one).
    let (admin_id,): (String,) = sqlx::query_as("SELECT id::text FROM users WHERE role = 'admin'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!list.contains(&format!("/gestion/personnel/{admin_id}/mot-de-passe")));
    let (status, refused, _) = submit(
        &app,
        &format!("/gestion/personnel/{admin_id}/mot-de-passe"),
        &admin,
        &[],
    )
    .await;
    assert_eq!(status, 422, "{refused}");

    let (status, _, location) = submit(
        &app,
        &format!("/gestion/personnel/{kitchen_id}/deverrouillage"),
        &admin,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let (_, after) = cookie_page(&app, location.trim_end_matches("#contenu"), &admin).await;
    assert!(after.contains(&format!("Le compte {kitchen_login} est déverrouillé")));
    assert!(!after.contains("Verrouillé depuis le"));
    app.wait_seconds(60);
    app.login(&kitchen_login, "staff-password")
        .await
        .assert_status(200);

    // A new password: shown once, the old one and the open sessions no longer work. (The
    // session opened before the lock was never ended by it.)
    let headcounts = "/api/v1/restaurants/0193a000-0000-7000-8000-000000000000/headcounts?from=2017-01-02&to=2017-01-06";
    app.get(headcounts, &kitchen_token)
        .await
        .assert_problem(404, "not_found");
    let (status, shown, _) = submit(
        &app,
        &format!("/gestion/personnel/{kitchen_id}/mot-de-passe"),
        &admin,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let new_password = shown
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the new password on the page")
        .to_string();
    assert_eq!(new_password.chars().count(), 14);
    app.get(headcounts, &kitchen_token)
        .await
        .assert_problem(401, "unauthorized");
    app.login(&kitchen_login, "staff-password")
        .await
        .assert_problem(401, "invalid_credentials");
    app.wait_seconds(60);
    app.login(&kitchen_login, &new_password)
        .await
        .assert_status(200);
    // An account that is not staff's (a made-up id) is a French 404.
    let (status, text, _) = submit(
        &app,
        "/gestion/personnel/0193a000-0000-7000-8000-000000000000/deverrouillage",
        &admin,
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert!(text.contains("Page introuvable"));
}

/// A staff member changes their own password on "Mon compte" with the current one; a wrong
/// current password or two different new ones change nothing.
#[tokio::test]
async fn staff_change_their_own_password_on_their_account_page() {
    let app = spawn_app().await;
    let kitchen = app.staff_token(Role::Kitchen).await;
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE role = 'kitchen'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (status, page) = cookie_page(&app, "/gestion/mon-compte", &kitchen).await;
    assert_eq!(status, 200);
    assert!(page.contains(&login) && page.contains("Changer mon mot de passe"));
    let (status, text, _) = submit(
        &app,
        "/gestion/mon-compte",
        &kitchen,
        &[
            ("mot_de_passe_actuel", "staff-password"),
            ("nouveau_mot_de_passe", "nouveau-secret-1"),
            ("confirmation", "nouveau-secret-2"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(text.contains("ne sont pas identiques"));
    let (status, text, _) = submit(
        &app,
        "/gestion/mon-compte",
        &kitchen,
        &[
            ("mot_de_passe_actuel", "pas-le-bon"),
            ("nouveau_mot_de_passe", "nouveau-secret-1"),
            ("confirmation", "nouveau-secret-1"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("mot de passe actuel est incorrect"));
    app.wait_seconds(60);
    let (status, _, location) = submit(
        &app,
        "/gestion/mon-compte",
        &kitchen,
        &[
            ("mot_de_passe_actuel", "staff-password"),
            ("nouveau_mot_de_passe", "nouveau-secret-1"),
            ("confirmation", "nouveau-secret-1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.unwrap(), "/gestion/mon-compte?fait=mot-de-passe");
    app.wait_seconds(60);
    app.login(&login, "nouveau-secret-1")
        .await
        .assert_status(200);
}
