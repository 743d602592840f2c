//! The second guide's calendar in the portal without a browser: booked days cancelled from the
//! calendar (recap first, then the result's counts), the places given back (the kitchen's
//! headcount), the credit note of paid days; refusals (past the cut-off, no CSRF token, another
//! family's reservation); the printable invoice and credit note; the ledger page against the API.

use cantine::domain::account::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::helpers::{
    portal_csrf as csrf, portal_page as page, post_portal_and_follow as post_and_follow,
    post_portal_form as post_form,
};

async fn booked_on(app: &TestApp, canteen: &Canteen, day: &str) -> i64 {
    let kitchen = app.staff_token(Role::Kitchen).await;
    let path = format!(
        "/api/v1/restaurants/{}/headcounts?from={day}&to={day}",
        canteen.restaurant_id
    );
    let reply = app.get(&path, &kitchen).await;
    reply
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == day)
        .map(|d| d["booked"].as_i64().unwrap() + d["awaiting_payment"].as_i64().unwrap())
        .unwrap_or(0)
}

async fn day_statuses(app: &TestApp, family: &Family, id: &str) -> Vec<(String, String)> {
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    detail.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status_of(days: &[(String, String)], day: &str) -> String {
    days.iter().find(|(d, _)| d == day).unwrap().1.clone()
}

async fn logged_in_again(app: &TestApp, family: Family) -> Family {
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    Family {
        token: app.token(&login, "mot-de-passe").await,
        ..family
    }
}

/// The Dupont family with four paid days in January 2017 (the first guide's), on its 14:38.
async fn paid_reservation() -> (TestApp, Canteen, Family, String) {
    let app = spawn_app().await;
    app.pause_clock();
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let id = book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"],
    )
    .await;
    pay(&app, &family, &[&id]).await;
    (app, canteen, family, id)
}

#[tokio::test]
async fn booked_days_cancelled_from_the_calendar_free_their_places_and_credit_the_family() {
    let (app, canteen, family, id) = paid_reservation().await;
    let calendar_path = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let (status, html) = page(&app, &family, &calendar_path).await;
    assert_eq!(status, 200);
    // Each paid day has its own labelled box, and says in words that it can be cancelled.
    for day in ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"] {
        assert!(
            html.contains(&format!(
                r#"<input type="checkbox" id="annuler-{day}" name="annuler" value="{id}_{day}">"#
            )),
            "{day}: {html}"
        );
        assert!(html.contains(&format!(r#"<label for="annuler-{day}">"#)));
    }
    assert!(html.contains("cocher pour annuler"), "{html}");
    assert_eq!(booked_on(&app, &canteen, "2017-01-23").await, 1);

    // Cancel 23 and 24 January, and add Monday 30th in the same validation.
    let token = csrf(&app, &family);
    let (recap_path, recap) = post_and_follow(
        &app,
        &family,
        "/reservation/calendrier",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&jour=2017-01-30&annuler={id}_2017-01-23&annuler={id}_2017-01-24&choix=jours",
            family.child_id, canteen.period_id
        ),
        "/reservation/recapitulatif?",
    )
    .await;
    assert_shows(
        &recap,
        &[
            "Récapitulatif de vos modifications",
            "Réservation ajoutée : 30/01/2017 - Prix : 4,15 €",
            "1 × 4,15 € = 4,15 €",
            "Annulation : lun. 23/01/2017 - Prix : 4,15 €",
            "Annulation : mar. 24/01/2017 - Prix : 4,15 €",
            "Montant des repas annulés : <strong>8,30 €</strong>",
            "un avoir de <strong>8,30 €</strong>",
            "Confirmer les modifications",
        ],
    );
    // Nothing is cancelled before the confirmation.
    let days = day_statuses(&app, &family, &id).await;
    assert_eq!(status_of(&days, "2017-01-23"), "booked");
    assert_eq!(booked_on(&app, &canteen, "2017-01-23").await, 1);

    let added = recap_path
        .split('&')
        .find_map(|p| p.strip_prefix("ajout="))
        .expect("the added request in the recap's address")
        .to_string();
    let (_, result) = post_and_follow(
        &app,
        &family,
        "/reservation/recapitulatif",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&ajout={added}&annuler={id}_2017-01-23&annuler={id}_2017-01-24",
            family.child_id, canteen.period_id
        ),
        "/reservation/bilan?",
    )
    .await;
    assert_shows(
        &result,
        &[
            "Récapitulatif de vos actions",
            "Réservation ajoutée : 30/01/2017 - Prix : 4,15 €",
            "Réservation annulée : 23/01/2017 - Prix : 4,15 €",
            "Réservation annulée : 24/01/2017 - Prix : 4,15 €",
            "Nombre de réservations effectuées avec succès : <strong>1</strong>",
            "Nombre de réservations annulées : <strong>2</strong>",
            "Avoir n° AV-2017-000001",
            "<strong>8,30 €</strong> crédités sur votre compte",
            "accéder à mon panier",
            "Continuer",
        ],
    );

    // The same form posted again (the back button): nothing more is done, nothing is refused
    // that stands.
    let events = app.event_count().await;
    let (status, again_path, _) = post_form(
        &app,
        &family,
        "/reservation/recapitulatif",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&ajout={added}&annuler={id}_2017-01-23&annuler={id}_2017-01-24",
            family.child_id, canteen.period_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.event_count().await, events);
    let (_, again) = page(&app, &family, &again_path).await;
    assert!(
        again.contains("Nombre de réservations annulées : <strong>0</strong>"),
        "{again}"
    );
    assert!(!again.contains("n'ont pas été réservés"), "{again}");
    assert!(!again.contains("Avoir n°"), "{again}");

    // The API agrees: the days are cancelled, their places given back, the family credited.
    let days = day_statuses(&app, &family, &id).await;
    assert_eq!(status_of(&days, "2017-01-23"), "cancelled");
    assert_eq!(status_of(&days, "2017-01-24"), "cancelled");
    assert_eq!(status_of(&days, "2017-01-27"), "booked");
    assert_eq!(booked_on(&app, &canteen, "2017-01-23").await, 0);
    assert_eq!(booked_on(&app, &canteen, "2017-01-24").await, 0);
    assert_eq!(booked_on(&app, &canteen, "2017-01-27").await, 1);
    assert_eq!(booked_on(&app, &canteen, "2017-01-30").await, 1);
    let added_detail = app
        .get(&format!("/api/v1/reservations/{added}"), &family.token)
        .await;
    assert_eq!(
        added_detail.assert_status(200)["status"],
        "awaiting_payment"
    );
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "8.30");
    let invoices = app.get("/api/v1/invoices", &family.token).await;
    let note = invoices
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "credit_note")
        .expect("a credit note")
        .clone();
    assert_eq!(note["number"], "AV-2017-000001");
    assert_eq!(note["total"], "8.30");

    // The credit note's page.
    let (status, html) = page(
        &app,
        &family,
        &format!("/factures/{}", note["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &[
            "Avoir n° AV-2017-000001",
            "Total crédité",
            "8,30 €",
            "23/01/2017, 24/01/2017",
            "déduit de ses prochains paiements",
        ],
    );

    // The calendar shows the cancelled days free again.
    let (_, html) = page(&app, &family, &calendar_path).await;
    assert!(
        html.contains(
            r#"<input type="checkbox" id="jour-2017-01-23" name="jour" value="2017-01-23">"#
        ),
        "{html}"
    );
}

#[tokio::test]
async fn cancellations_are_refused_past_the_cut_off_without_csrf_and_for_another_family() {
    let (app, canteen, family, id) = paid_reservation().await;
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let events = app.event_count().await;

    // Without the session's CSRF token: a French refusal, nothing done.
    let (status, _, html) = post_form(
        &app,
        &family,
        "/reservation/recapitulatif",
        format!(
            "enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23",
            family.child_id, canteen.period_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Formulaire refusé"), "{html}");
    assert_eq!(app.event_count().await, events);

    // Another family naming this reservation, from its own child: 404, nothing done, nothing shown.
    let other_token = csrf(&app, &other);
    let recap = format!(
        "/reservation/recapitulatif?enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23",
        other.child_id, canteen.period_id
    );
    let (status, html) = page(&app, &other, &recap).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("23/01/2017"), "{html}");
    let (status, _, _) = post_form(
        &app,
        &other,
        "/reservation/recapitulatif",
        format!(
            "csrf={other_token}&enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23",
            other.child_id, canteen.period_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor through the other family's calendar form.
    let (status, _, _) = post_form(
        &app,
        &other,
        "/reservation/calendrier",
        format!(
            "csrf={other_token}&enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23&choix=jours",
            other.child_id, canteen.period_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let days = day_statuses(&app, &family, &id).await;
    assert_eq!(status_of(&days, "2017-01-23"), "booked");
    assert_eq!(app.event_count().await, events);

    // Tuesday 17 January, 10:00: 23 January is past its cut-off (Tuesday before, 09:30), 31st not.
    app.wait_seconds(6 * 24 * 3600 - 4 * 3600 - 38 * 60 + 60);
    // Sessions last 12 hours: log in again.
    let family = logged_in_again(&app, family).await;
    let token = csrf(&app, &family);
    let calendar_path = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let (_, html) = page(&app, &family, &calendar_path).await;
    assert!(!html.contains(r#"id="annuler-2017-01-23""#), "{html}");
    assert!(html.contains(r#"id="annuler-2017-01-31""#), "{html}");
    assert!(
        html.contains("délai d&#39;annulation dépassé")
            || html.contains("délai d'annulation dépassé"),
        "{html}"
    );

    // Asked anyway (a page left open): the recap explains, offers nothing to confirm.
    let recap = format!(
        "/reservation/recapitulatif?enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23",
        family.child_id, canteen.period_id
    );
    let (status, html) = page(&app, &family, &recap).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Ne peut pas être annulé : lun. 23/01/2017 - Délai d")
            && html.contains("annulation dépassé"),
        "{html}"
    );
    assert!(!html.contains("Confirmer les modifications"), "{html}");
    // And confirmed anyway: the result says why, the day stays booked.
    let (_, result) = post_and_follow(
        &app,
        &family,
        "/reservation/recapitulatif",
        format!(
            "csrf={token}&enfant={}&periode={}&mois=2017-01&annuler={id}_2017-01-23&annuler={id}_2017-01-31",
            family.child_id, canteen.period_id
        ),
        "/reservation/bilan?",
    )
    .await;
    assert_shows(
        &result,
        &[
            "Non annulé : 23/01/2017 - Délai d",
            "Réservation annulée : 31/01/2017",
            "Nombre de réservations annulées : <strong>1</strong>",
            "Nombre de jours refusés : <strong>1</strong>",
        ],
    );
    let days = day_statuses(&app, &family, &id).await;
    assert_eq!(status_of(&days, "2017-01-23"), "booked");
    assert_eq!(status_of(&days, "2017-01-31"), "cancelled");
}

#[tokio::test]
async fn the_invoice_page_is_printable_and_only_the_family_s_own() {
    let (app, canteen, family, _) = paid_reservation().await;
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let invoices = app.get("/api/v1/invoices", &family.token).await;
    let invoice = invoices.assert_status(200)[0].clone();
    assert_eq!(invoice["total"], "16.60");
    assert_eq!(invoice["family_name"], "DUPONT");
    let id = invoice["id"].as_str().unwrap();
    let number = invoice["number"].as_str().unwrap();

    let (status, list) = page(&app, &family, "/factures").await;
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!(r#"href="/factures/{id}""#)),
        "{list}"
    );
    assert!(list.contains(r#"href="/compte/releve""#), "{list}");

    let (status, html) = page(&app, &family, &format!("/factures/{id}")).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &[
            format!("Facture n° {number}"),
            "Communauté de communes Terre de Camargue".to_string(),
            "26 Quai des Croisades".to_string(),
            "<strong>DUPONT</strong>".to_string(),
            "Hervé DUPONT".to_string(),
            "23/01/2017, 24/01/2017, 27/01/2017, 31/01/2017".to_string(),
            r#"<td data-label="Quantité">4</td>"#.to_string(),
            "4,15 €".to_string(),
            "<strong>16,60 €</strong>".to_string(),
            "Payée : 16,60 € par paiement en ligne".to_string(),
        ],
    );
    let css = reqwest::get(format!("{}/portail.css", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let print = &css[css.find("@media print").expect("a print stylesheet")..];
    assert!(print.contains("header.site"), "{print}");

    // Another family's session: the same 404 as an unknown id, nothing of the invoice shown.
    let (status, html) = page(&app, &other, &format!("/factures/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains(number) && !html.contains("16,60"), "{html}");
    let (status, _) = page(
        &app,
        &family,
        &format!("/factures/{}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The text of each `<td data-label="{label}" …>` cell, in order.
fn cells(html: &str, label: &str) -> Vec<String> {
    let marker = format!(r#"<td data-label="{label}""#);
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at..];
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</td>").unwrap();
            rest[start..end].to_string()
        })
        .collect()
}

fn french(amount: &Value) -> String {
    format!("{} €", amount.as_str().unwrap().replace('.', ","))
}

#[tokio::test]
async fn the_ledger_page_shows_the_api_s_ledger() {
    let (app, canteen, family, id) = paid_reservation().await;
    // A credit note too: cancel one paid day through the API.
    app.post(
        &format!("/api/v1/reservations/{id}/cancel"),
        &family.token,
        serde_json::json!({"days": ["2017-01-31"]}),
    )
    .await
    .assert_status(200);
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    let ledger = ledger.assert_status(200).clone();
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "invoice, payment, credit note: {ledger}");

    let (status, html) = page(&app, &family, "/compte/releve").await;
    assert_eq!(status, 200);
    assert!(html.contains("Relevé de compte"), "{html}");
    let expected_amounts: Vec<String> = entries.iter().map(|e| french(&e["amount"])).collect();
    let expected_balances: Vec<String> = entries.iter().map(|e| french(&e["balance"])).collect();
    assert_eq!(cells(&html, "Montant"), expected_amounts);
    assert_eq!(cells(&html, "Solde"), expected_balances);
    assert!(
        html.contains(&format!(
            r#"<dd id="solde"><strong>{}</strong>"#,
            french(&ledger["balance"])
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<dd id="avoir"><strong>{}</strong>"#,
            french(&ledger["credit"])
        )),
        "{html}"
    );
    assert_eq!(ledger["credit"], "4.15");
    // Each document's reference opens its printable page.
    let kinds = cells(&html, "Opération");
    assert!(kinds.contains(&"Avoir".to_string()), "{kinds:?}");
    assert!(html.contains(r#"<a href="/factures/"#), "{html}");

    // The other family's ledger page is its own (empty) one.
    let (status, html) = page(&app, &other, "/compte/releve").await;
    assert_eq!(status, 200);
    assert!(html.contains("Aucune opération"), "{html}");
    assert!(!html.contains("AV-2017"), "{html}");
}
