//! Issue 20: the family portal walked again by a new parent. One test (or more) per defect,
//! each written to fail on the code before its fix, through the real router and PostgreSQL.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::helpers::{
    portal_csrf as csrf, portal_page as page, post_portal_and_follow as post_and_follow,
    post_portal_form as post_form,
};

fn assert_hides<S: AsRef<str>>(html: &str, needles: &[S]) {
    for needle in needles {
        let needle = needle.as_ref();
        assert!(!html.contains(needle), "unexpected «{needle}»: {html}");
    }
}

/// The second guide's canteen: billed later, 4.97 €, "DÉJEUNER (11:45 – 13:30)", on Monday 12
/// May 2025, 09:00 in Paris.
async fn billed_later() -> (TestApp, Canteen, Family) {
    let app = spawn_app_at("2025-05-12T07:00:00Z".parse().unwrap()).await;
    app.pause_clock();
    let canteen = setup_jean_jaures(&app).await;
    let family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    (app, canteen, family)
}

/// A request of `days` made through the API, not confirmed.
async fn request(app: &TestApp, canteen: &Canteen, family: &Family, days: &[&str]) -> String {
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
        )
        .await;
    reply.assert_status(201)["id"].as_str().unwrap().to_string()
}

/// The first guide's Dupont family on its 14:38, with the clock stopped.
async fn prepaid() -> (TestApp, Canteen, Family) {
    let app = spawn_app().await;
    app.pause_clock();
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    (app, canteen, family)
}

const JANUARY: [&str; 4] = ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"];

// 2. The billed-later recap speaks of an online payment.
#[tokio::test]
async fn d02_a_billed_later_request_does_not_speak_of_paying_online() {
    let (app, canteen, family) = billed_later().await;
    let id = request(&app, &canteen, &family, &["2025-05-15", "2025-05-16"]).await;
    let (status, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_eq!(status, 200, "{html}");
    assert_shows(
        &html,
        &["Confirmer la réservation", "facturés en fin de mois"],
    );
    assert_hides(&html, &["paiement en ligne"]);

    // The prepaid recap still says it, as the first guide does.
    let (app, canteen, family) = prepaid().await;
    let id = request(&app, &canteen, &family, &JANUARY).await;
    let (_, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_shows(
        &html,
        &["ne seront réservées définitivement qu'après le paiement en ligne"],
    );
}

// 3. "REPAS" where the period's service is "DÉJEUNER (11:45 – 13:30)".
#[tokio::test]
async fn d03_reservations_name_the_period_s_own_service_and_hours() {
    let (app, canteen, family) = billed_later().await;
    let id = request(&app, &canteen, &family, &["2025-05-15", "2025-05-16"]).await;
    let (_, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_shows(&html, &["DÉJEUNER (11:45 – 13:30)"]);
    assert_hides(&html, &["<td>REPAS</td>"]);
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
        .await
        .assert_status(200);
    let (_, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_shows(&html, &["<td>DÉJEUNER (11:45 – 13:30)</td>"]);
    assert_hides(&html, &["<td>REPAS</td>"]);
}

// The second guide's main case: a plain booking ends on the guide's own recap and counts.
#[tokio::test]
async fn a_plain_billed_later_booking_ends_on_the_second_guide_s_recap() {
    let (app, canteen, family) = billed_later().await;
    let token = csrf(&app, &family);
    let (recap_path, recap) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2025-05&jour=2025-05-15&jour=2025-05-22&choix=jours",
            family.child_id, canteen.period_id
        ),
        "/reservation/recapitulatif?",
    )
    .await;
    assert_shows(
        &recap,
        &[
            "Réservation ajoutée : 15/05/2025 - Prix : 4,97 €",
            "Réservation ajoutée : 22/05/2025 - Prix : 4,97 €",
            "2 × 4,97 € = 9,94 €",
            "Confirmer les modifications",
        ],
    );
    let query = recap_path.split_once('?').unwrap().1;
    let (_, result) = post_and_follow(
        &app,
        &family,
        "/reservation/recapitulatif",
        format!("csrf={token}&{query}"),
        "/reservation/bilan?",
    )
    .await;
    let calendar = format!(
        "/reservation/calendrier?enfant={}&amp;periode={}&amp;mois=2025-05",
        family.child_id, canteen.period_id
    );
    assert_shows(
        &result,
        &[
            "Réservation ajoutée : 15/05/2025 - Prix : 4,97 €".to_string(),
            "Réservation ajoutée : 22/05/2025 - Prix : 4,97 €".to_string(),
            "Nombre de réservations effectuées avec succès : <strong>2</strong>".to_string(),
            "Nombre de réservations annulées : <strong>0</strong>".to_string(),
            format!(r#"href="{calendar}">Continuer</a>"#),
        ],
    );
    // Booked, billed later: nothing waits for a payment.
    let (_, calendar_page) = page(&app, &family, &calendar.replace("&amp;", "&")).await;
    assert_shows(&calendar_page, &[r#"id="annuler-2025-05-15""#]);
    assert_hides(&calendar_page, &["En attente de paiement –"]);
}

// 5. A refused payment's page says an amount was paid.
#[tokio::test]
async fn d05_a_refused_payment_does_not_say_anything_was_paid() {
    let (app, canteen, family) = prepaid().await;
    let id = book_and_confirm(&app, &canteen, &family, &JANUARY).await;
    let payment = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    let payment_id = payment.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    crate::first_guide::notify(
        &app,
        &payment_id,
        json!({"status": "failed", "amount": "16.60", "provider_ref": "DECLINED"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    let (status, html) = page(&app, &family, &format!("/paiements/{payment_id}")).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &["Paiement refusé", "Aucun montant n'a été débité", "16,60 €"],
    );
    assert_hides(&html, &["Montant payé en ligne"]);
}

/// Sends a request on an expired session: answers the login form's status and the page the
/// service remembered to go back to (its `cantine_suivant` cookie, hex), if any.
async fn on_expired_session(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    form: Option<String>,
) -> (StatusCode, Option<String>, String) {
    let mut request = browser_request(app, method, path, &"0".repeat(64));
    if let Some(form) = form {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let remembered = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("cantine_suivant="))
        .map(|c| c.split(';').next().unwrap().to_string());
    let html = response.text().await.unwrap();
    let next = remembered.map(|hex| {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        String::from_utf8(bytes).unwrap()
    });
    (status, next, html)
}

/// Logs in on the login form with the remembered page's cookie: answers where it leads.
async fn log_in_remembering(app: &TestApp, login: &str, next: &str) -> String {
    let hex: String = next.bytes().map(|b| format!("{b:02x}")).collect();
    let response = no_redirect_client()
        .post(format!("{}/connexion", app.address))
        .header(
            "cookie",
            format!("cantine_connexion=abc123; cantine_suivant={hex}"),
        )
        .form(&[
            ("identifiant", login),
            ("mot_de_passe", "mot-de-passe"),
            ("csrf", "abc123"),
            ("suivant", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response).unwrap()
}

// 6. After a session expires, the login lands on `/` instead of the page asked for.
#[tokio::test]
async fn d06_logging_in_again_goes_back_to_the_page_or_the_form_s_page() {
    let (app, canteen, family) = prepaid().await;
    let id = request(&app, &canteen, &family, &JANUARY).await;
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let deep = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let (status, next, html) = on_expired_session(&app, reqwest::Method::GET, &deep, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_shows(&html, &["Connexion à votre espace"]);
    // The page shows nothing that came with the request.
    assert_hides(&html, &[family.child_id.as_str()]);
    assert_eq!(next.as_deref(), Some(deep.as_str()));
    assert_eq!(log_in_remembering(&app, &login, &deep).await, deep);

    // A form posted on the expired session: back to the page the form was on.
    let (status, next, _) = on_expired_session(
        &app,
        reqwest::Method::POST,
        &format!("/reservations/{id}/confirmer"),
        Some("csrf=00".into()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(next, Some(format!("/reservations/{id}")));
    let (_, next, _) = on_expired_session(
        &app,
        reqwest::Method::POST,
        "/reservation/calendrier",
        Some(format!(
            "csrf=00&enfant={}&periode={}&mois=2017-01&jour=2017-01-23&choix=jours",
            family.child_id, canteen.period_id
        )),
    )
    .await;
    assert_eq!(next.as_deref(), Some(deep.as_str()));
    // Nothing came of the expired forms.
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    assert_eq!(detail.assert_status(200)["status"], "requested");
    // Only a path of this site is followed.
    app.wait_seconds(2);
    assert_eq!(
        log_in_remembering(&app, &login, "//ailleurs.example/").await,
        "/"
    );
}

// 7. Unknown addresses answer raw JSON to a browser.
#[tokio::test]
async fn d07_unknown_addresses_answer_a_french_page_with_a_way_back() {
    let (app, _, family) = prepaid().await;
    for (path, back, side) in [
        ("/nexistepas", r#"href="/""#, "Portail famille"),
        ("/reservation/nulle-part", r#"href="/""#, "Portail famille"),
        (
            "/gestion/nulle-part",
            r#"href="/gestion""#,
            "Espace de gestion",
        ),
    ] {
        let response = browser_request(&app, reqwest::Method::GET, path, &family.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        let html = response.text().await.unwrap();
        assert_shows(&html, &["Page introuvable", back, side, "lang=\"fr\""]);
    }
    // The family keeps its menu; without a session, the page has none.
    let (_, html) = page(&app, &family, "/nexistepas").await;
    assert_shows(&html, &["Menu principal", "Mes réservations"]);
    let anonymous = reqwest::get(format!("{}/nexistepas", app.address))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 404);
    let html = anonymous.text().await.unwrap();
    assert_shows(&html, &["Page introuvable", r#"href="/""#]);
    assert_hides(&html, &["Menu principal"]);
    app.request(reqwest::Method::GET, "/api/v1/nexistepas", None, None)
        .await
        .assert_problem(404, "not_found");
    // A form's address typed in the address bar: a page too; the API keeps problem+json.
    let response = browser_request(
        &app,
        reqwest::Method::GET,
        "/panier/paiement",
        &family.token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 405);
    let html = response.text().await.unwrap();
    assert_shows(&html, &["Page introuvable", r#"href="/""#]);
    app.request(reqwest::Method::DELETE, "/api/v1/family", None, None)
        .await
        .assert_problem(405, "method_not_allowed");
}

// 12. "Annuler cette réservation" and "Abandonner cette demande" act on one click.
#[tokio::test]
async fn d12_cancelling_asks_first_without_javascript() {
    let (app, canteen, family) = prepaid().await;
    let id = book_and_confirm(&app, &canteen, &family, &JANUARY).await;
    let (_, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_hides(
        &html,
        &[format!(
            r#"<form method="post" action="/reservations/{id}/annuler""#
        )],
    );
    assert_shows(
        &html,
        &[format!(
            r#"href="/reservations/{id}/annuler">Annuler cette réservation"#
        )],
    );
    let (status, ask) = page(&app, &family, &format!("/reservations/{id}/annuler")).await;
    assert_eq!(status, 200, "{ask}");
    assert_shows(
        &ask,
        &[
            "Voulez-vous vraiment annuler",
            "Oui, annuler la réservation",
            "Non, garder la réservation",
            "16,60 €",
        ],
    );
    // A post without the confirmation asks first, and changes nothing.
    let token = csrf(&app, &family);
    let (status, to, _) = post_form(
        &app,
        &family,
        &format!("/reservations/{id}/annuler"),
        format!("csrf={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("/reservations/{id}/annuler"));
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    assert_eq!(detail.assert_status(200)["status"], "awaiting_payment");
    let (status, to, _) = post_form(
        &app,
        &family,
        &format!("/reservations/{id}/annuler"),
        format!("csrf={token}&confirmation=oui"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("/reservations/{id}"));
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    assert_eq!(detail.assert_status(200)["status"], "cancelled");

    // The request not confirmed yet: "Abandonner cette demande" asks too.
    let other = request(&app, &canteen, &family, &["2017-02-06"]).await;
    let (_, html) = page(&app, &family, &format!("/reservations/{other}")).await;
    assert_shows(
        &html,
        &[format!(
            r#"href="/reservations/{other}/annuler">Abandonner cette demande"#
        )],
    );
    let (_, ask) = page(&app, &family, &format!("/reservations/{other}/annuler")).await;
    assert_shows(&ask, &["Oui, abandonner la demande"]);
}

// 14. The e-mailed password page and the payment simulator are unstyled and half English.
#[tokio::test]
async fn d14_the_password_page_and_the_payment_simulator_are_portal_pages() {
    let (app, canteen, family) = prepaid().await;
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.request(
        reqwest::Method::POST,
        "/api/v1/auth/password-email",
        None,
        Some(json!({"login": login})),
    )
    .await
    .assert_status(202);
    let jeton = app.password_link_token(&login, 1).await;
    let client = no_redirect_client();
    let form = client
        .get(format!("{}/mot-de-passe?jeton={jeton}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert_shows(
        &html,
        &[
            r#"href="/portail.css""#,
            "Choisir votre mot de passe",
            r#"<label for="mot_de_passe""#,
        ],
    );
    let done = client
        .post(format!("{}/mot-de-passe", app.address))
        .form(&[
            ("jeton", jeton.as_str()),
            ("mot_de_passe", "un-mot-de-passe-neuf"),
            ("confirmation", "un-mot-de-passe-neuf"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert_shows(
        &html,
        &[
            r#"href="/portail.css""#,
            "Mot de passe enregistré",
            r#"href="/connexion""#,
        ],
    );

    let family = Family {
        token: app.token(&login, "un-mot-de-passe-neuf").await,
        ..family
    };
    let id = book_and_confirm(&app, &canteen, &family, &JANUARY).await;
    let payment = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    let payment_id = payment.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let checkout = client
        .get(format!(
            "{}/api/v1/payments/{payment_id}/checkout",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(checkout.status(), 200);
    let html = checkout.text().await.unwrap();
    assert_shows(
        &html,
        &[
            r#"href="/portail.css""#,
            "Paiement simulé",
            "16,60 €",
            "en attente",
        ],
    );
    assert_hides(&html, &["pending"]);
}

// 10. The cart lacks the period, the dates and the creation time, and repeats the deadline.
#[tokio::test]
async fn d10_the_cart_shows_each_reservation_as_the_first_guide_does() {
    let (app, canteen, family) = prepaid().await;
    book_and_confirm(&app, &canteen, &family, &JANUARY).await;
    let (_, html) = page(&app, &family, "/panier").await;
    assert_shows(
        &html,
        &[
            "Restaurant Scolaire Le Repausset",
            "CANTINE SCOLAIRE Restauration Le Repausset 2016-2017",
            "du 23/01/2017 au 31/01/2017",
            "créée le 11/01/2017 à 14:38",
            "16,60 €",
            "15:38",
        ],
    );
    assert_hides(&html, &["15:38 (11/01/2017 à 15:38)"]);
}

// 11. With the payment tab closed, "Accéder au paiement" is a dead end without a menu.
#[tokio::test]
async fn d11_a_payment_in_progress_can_be_taken_up_again() {
    let (app, canteen, family) = prepaid().await;
    book_and_confirm(&app, &canteen, &family, &JANUARY).await;
    let token = csrf(&app, &family);
    let (status, first, _) =
        post_form(&app, &family, "/panier/paiement", format!("csrf={token}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(first.contains("/checkout"), "{first}");

    // The tab was closed: the cart offers the payment in progress.
    let (_, cart) = page(&app, &family, "/panier").await;
    assert_shows(
        &cart,
        &[
            "Un paiement est en cours",
            &format!(r#"href="{first}""#),
            "Reprendre le paiement en cours",
        ],
    );
    let (status, _, html) =
        post_form(&app, &family, "/panier/paiement", format!("csrf={token}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_shows(
        &html,
        &[
            "Un paiement est déjà en cours",
            &format!(r#"href="{first}""#),
            "Reprendre le paiement en cours",
            // The portal's menu.
            "Menu principal",
            "Mes réservations",
        ],
    );
}

// 4. The period page and the calendar show the period's price while the recap charges the
// family's bracket; "Mon compte" does not show the quotient familial.
#[tokio::test]
async fn d04_the_family_sees_its_own_price_and_bracket_everywhere() {
    let (app, canteen, family) = prepaid().await;
    app.post(
        &format!("/api/v1/admin/periods/{}/tariffs", canteen.period_id),
        &canteen.admin,
        json!({"effective_from": "2017-02-01", "brackets": [
            {"up_to": 500, "unit_price": "1.50"},
            {"up_to": 900, "unit_price": "2.80"},
            {"up_to": null, "unit_price": "4.97"}
        ]}),
    )
    .await
    .assert_status(201);
    app.put(
        &format!("/api/v1/admin/families/{}/quotient", family.id),
        &canteen.admin,
        json!({"quotient": 650}),
    )
    .await
    .assert_status(200);

    let rules = format!(
        "/reservation/nouvelle?enfant={}&restaurant={}&periode={}",
        family.child_id, canteen.restaurant_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &rules).await;
    assert_shows(
        &html,
        &[
            "2,80 € à partir du 01/02/2017",
            "4,15 € jusqu'au 31/01/2017",
            "quotient familial : 650",
            "de 501 à 900",
        ],
    );
    let february = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-02",
        family.child_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &february).await;
    assert_shows(&html, &["Prix du repas : 2,80 €", "de 501 à 900"]);
    assert_hides(&html, &["Prix du repas : 4,15 €"]);
    // The recap charges what the calendar said.
    let id = request(&app, &canteen, &family, &["2017-02-06", "2017-02-07"]).await;
    let (_, recap) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_shows(&recap, &["2 × 2,80 € = 5,60 €"]);

    let (_, account) = page(&app, &family, "/compte").await;
    assert_shows(
        &account,
        &[
            "Quotient familial",
            "650",
            "depuis le 11/01/2017",
            "de 501 à 900",
        ],
    );
}

// 1. An unconfirmed request looks paid-for-later: calendar → tick → "Valider le planning" →
// Back shows "En attente de paiement", the cart is empty, and the request silently expires.
#[tokio::test]
async fn d01_a_request_not_confirmed_reads_as_such_with_a_way_to_confirm_or_drop_it() {
    let (app, canteen, family) = prepaid().await;
    let token = csrf(&app, &family);
    let (status, to, _) = post_form(
        &app,
        &family,
        "/reservation/calendrier",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&jour=2017-01-23&choix=jours",
            family.child_id, canteen.period_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = to.trim_start_matches("/reservations/").to_string();
    // The browser's Back: the calendar again.
    let calendar = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &calendar).await;
    let cell = html
        .split(r#"<li class="day status-requested"#)
        .skip(1)
        .map(|rest| &rest[..rest.find("</li>").unwrap()])
        .find(|cell| cell.contains("23/01/2017"))
        .unwrap_or_else(|| panic!("23 January is not shown as a request to confirm: {html}"));
    assert_shows(
        cell,
        &[
            "lun. 23/01/2017",
            "En attente de confirmation",
            &format!(r#"href="/reservations/{id}""#),
        ],
    );
    assert_hides(cell, &["En attente de paiement"]);
    assert_shows(
        &html,
        &[
            "pas encore confirmée",
            &format!(r#"href="/reservations/{id}">Confirmer ou abandonner la demande n° 00001"#),
        ],
    );
    // The API says the same.
    let api = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
                family.child_id, canteen.period_id
            ),
            &family.token,
        )
        .await;
    let day = api.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2017-01-23")
        .unwrap()
        .clone();
    assert_eq!(day["status"], "requested");
    // The history too, with the way to confirm or drop it.
    let (_, history) = page(&app, &family, "/historique").await;
    assert_shows(
        &history,
        &[
            "En attente de confirmation",
            &format!(r#"href="/reservations/{id}">Confirmer ou abandonner"#),
        ],
    );
    // And the cart does not say "empty" without a word about it.
    let (_, cart) = page(&app, &family, "/panier").await;
    assert_shows(
        &cart,
        &[
            "pas encore confirmée",
            &format!(r#"href="/reservations/{id}""#),
        ],
    );
}

// 9. "Toute l'année" lists ~96 refusals before the days booked; the bulk box says "réservés
// aussitôt" although the choices are still to confirm.
#[tokio::test]
async fn d09_a_whole_year_choice_shows_the_days_first_and_the_refusals_grouped() {
    let (app, canteen, family) = prepaid().await;
    let calendar = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &calendar).await;
    assert_hides(&html, &["réservés aussitôt"]);
    assert_shows(&html, &["à confirmer sur le récapitulatif"]);

    let token = csrf(&app, &family);
    let (_, recap) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&choix=annee",
            family.child_id, canteen.period_id
        ),
        "/reservations/",
    )
    .await;
    let days = recap.find("Jours demandés").expect("the days asked for");
    let refusals = recap
        .find("jours non réservés")
        .expect("the refusals, grouped");
    assert!(days < refusals, "the days booked come first: {recap}");
    // One line per reason, with its count (the days themselves folded away).
    assert_eq!(
        recap.matches("jours non réservés").count(),
        2,
        "past the cut-off, and closed: {recap}"
    );
    assert_shows(
        &recap,
        &[
            "jours non réservés : Date limite de réservation dépassée",
            "jours non réservés : Restaurant fermé",
            "<details",
        ],
    );
}

// 13. "Fermé" for weekdays without service and holidays alike, without the closure's reason;
// weeks wrap Sunday onto a line of its own.
#[tokio::test]
async fn d13_the_month_is_a_grid_of_weeks_and_closed_days_say_why() {
    let (app, canteen, family) = billed_later().await;
    let may = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2025-05",
        family.child_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &may).await;
    let cell = |date: &str| -> String {
        let start = html
            .find(&format!("{date}</span>"))
            .unwrap_or_else(|| panic!("no {date}: {html}"));
        let open = html[..start].rfind("<li").unwrap();
        html[open..start + html[start..].find("</li>").unwrap()].to_string()
    };
    // A Wednesday: no service that weekday, greyed, in its own column.
    let wednesday = cell("mer. 14/05/2025");
    assert_shows(&wednesday, &["no-service", "wd-3", "Pas de service"]);
    assert_hides(&wednesday, &["Fermé"]);
    // A Thursday of the Ascension bridge: closed, and why.
    let bridge = cell("jeu. 29/05/2025");
    assert_shows(
        &bridge,
        &["status-closed", "wd-4", "Fermé : Pont de l'Ascension"],
    );
    // Sunday sits in the seventh column of its week; the month starts on a Thursday.
    assert_shows(&cell("dim. 18/05/2025"), &["wd-7"]);
    assert_shows(&cell("jeu. 01/05/2025"), &["wd-4"]);
    // The grid's heading names the seven weekdays.
    assert_shows(&html, &[r#"class="weekdays""#, "Lun.", "Dim."]);
}

// 15. At a phone's width the estimate's amount column is cut inside a side-scrolling box: the
// estimate is one card per line there (`table.stack`, each cell led by its column's name).
// The browser walk checks the boxes at 390 px (`boxesFit` in e2e/first_guide.mjs).
#[tokio::test]
async fn d15_the_estimate_stacks_on_a_phone() {
    let (app, canteen, family) = prepaid().await;
    let id = request(&app, &canteen, &family, &JANUARY).await;
    let (_, html) = page(&app, &family, &format!("/reservations/{id}")).await;
    assert_shows(
        &html,
        &[
            r#"<table class="invoice stack">"#,
            r#"<td data-label="Montant" class="amount">16,60 €</td>"#,
        ],
    );
}

// 8. Ticks are lost when moving to another month, and a tick plus "+ cette semaine" drops the
// tick: the choices travel with the month's buttons until "Valider le planning".
#[tokio::test]
async fn d08_ticks_are_kept_across_months_and_with_a_bulk_choice() {
    let (app, canteen, family) = prepaid().await;
    let token = csrf(&app, &family);
    let base = format!(
        "csrf={token}&enfant={}&periode={}",
        family.child_id, canteen.period_id
    );
    // January: tick the 23rd, then go to February.
    let (february, html) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!("{base}&mois=2017-01&jour=2017-01-23&choix=mois-2017-02"),
        "/reservation/calendrier?",
    )
    .await;
    assert!(february.contains("mois=2017-02"), "{february}");
    assert_shows(
        &html,
        &[
            "février 2017",
            r#"<input type="hidden" name="jour" value="2017-01-23">"#,
            "1 jour coché dans un autre mois",
        ],
    );
    // The month's buttons belong to the calendar's form, so that they carry the ticks.
    assert_shows(
        &html,
        &[r#"form="planning" name="choix" value="mois-2017-01""#],
    );
    // February: tick the 6th, back to January: the 23rd is still ticked.
    let (_, html) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!("{base}&mois=2017-02&jour=2017-01-23&jour=2017-02-06&choix=mois-2017-01"),
        "/reservation/calendrier?",
    )
    .await;
    assert_shows(
        &html,
        &[
            r#"<input type="checkbox" id="jour-2017-01-23" name="jour" value="2017-01-23" checked>"#,
            r#"<input type="hidden" name="jour" value="2017-02-06">"#,
        ],
    );
    // "Valider le planning" requests both months' days.
    let (_, recap) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!("{base}&mois=2017-01&jour=2017-01-23&jour=2017-02-06&choix=jours"),
        "/reservations/",
    )
    .await;
    assert_shows(
        &recap,
        &["lun. 23/01/2017", "lun. 06/02/2017", "2 × 4,15 € = 8,30 €"],
    );

    // A tick and "+ cette semaine": both.
    let (_, recap) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!("{base}&mois=2017-01&jour=2017-01-24&choix=semaine-2017-02-13"),
        "/reservations/",
    )
    .await;
    assert_shows(
        &recap,
        &[
            "mar. 24/01/2017",
            "lun. 13/02/2017",
            "ven. 17/02/2017",
            "5 × 4,15 € = 20,75 €",
        ],
    );
}

// 16. "Modifier les informations de la famille": address, phones, the second guardian's contact.
#[tokio::test]
async fn d16_the_family_edits_its_address_phones_and_second_guardian() {
    let (app, _, family) = prepaid().await;
    let (_, html) = page(&app, &family, "/compte").await;
    assert_shows(
        &html,
        &[
            "Modifier les informations de la famille",
            r#"action="/compte/famille""#,
            r#"<label for="famille-adresse""#,
        ],
    );
    let token = csrf(&app, &family);
    let (status, to, _) = post_form(
        &app,
        &family,
        "/compte/famille",
        format!(
            "csrf={token}&adresse=26+Quai+des+Croisades%0D%0A30220+AIGUES-MORTES&telephone=04+66+71+71+55\
             &portable=%2B33+6+12+34+56+78&second_nom=Marie+DUPONT&second_telephone=06.98.76.54.32\
             &second_email=marie.dupont%40example.fr"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/compte?fait=famille");
    let (_, html) = page(&app, &family, &to).await;
    assert_shows(
        &html,
        &[
            "Les informations de la famille sont enregistrées.",
            "26 Quai des Croisades",
            "30220 AIGUES-MORTES",
            "04 66 71 71 55",
            "+33 6 12 34 56 78",
            "Marie DUPONT",
            "06.98.76.54.32",
            "marie.dupont@example.fr",
        ],
    );

    // Bad input: a French refusal next to its field, the form filled in again, nothing changed.
    let (status, _, html) = post_form(
        &app,
        &family,
        "/compte/famille",
        format!(
            "csrf={token}&adresse=1+rue+Neuve&telephone=appelez-moi&portable=&second_nom=\
             &second_telephone=&second_email=pas-une-adresse"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_shows(
        &html,
        &[
            "Le numéro de téléphone ne peut contenir que des chiffres",
            r#"value="appelez-moi""#,
            "1 rue Neuve",
        ],
    );
    let (_, html) = page(&app, &family, "/compte").await;
    assert_shows(&html, &["26 Quai des Croisades", "04 66 71 71 55"]);
    assert_hides(&html, &["1 rue Neuve"]);
    let (status, _, html) = post_form(
        &app,
        &family,
        "/compte/famille",
        format!("csrf={token}&adresse=&telephone=&portable=&second_nom=&second_telephone=&second_email=pas-une-adresse"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_shows(
        &html,
        &["L'adresse e-mail du second responsable n'est pas valable"],
    );
}
