//! The kitchen's roll call: the children of a restaurant's day by name, adding up to the
//! headcount's numbers, as JSON, as a printable page, and as CSV in both spellings.

use cantine::domain::account::Role;
use serde_json::json;

use crate::helpers::*;

/// Four children on Monday 23 January: Léa paid (booked), Noé awaiting payment, Inès asked and
/// not confirmed, Jules booked then cancelled.
async fn a_day_of_the_repausset(app: &TestApp) -> Canteen {
    let canteen = setup_repausset(app).await;
    let lea = family_with_child(app, &canteen.admin, "DUPONT", "Léa").await;
    let paid = book_and_confirm(app, &canteen, &lea, &["2017-01-23", "2017-01-24"]).await;
    pay(app, &lea, &[&paid]).await;
    let noe = family_with_child(app, &canteen.admin, "MARTIN", "Noé").await;
    book_and_confirm(app, &canteen, &noe, &["2017-01-23"]).await;
    let ines = family_with_child(app, &canteen.admin, "BERNARD", "Inès").await;
    app.post(
        "/api/v1/reservations",
        &ines.token,
        json!({"child_id": ines.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
    )
    .await
    .assert_status(201);
    let jules = family_with_child(app, &canteen.admin, "PETIT", "Jules").await;
    let cancelled = book_and_confirm(app, &canteen, &jules, &["2017-01-23", "2017-01-24"]).await;
    app.post(
        &format!("/api/v1/reservations/{cancelled}/cancel"),
        &jules.token,
        json!({"days": ["2017-01-23"]}),
    )
    .await
    .assert_status(200);
    canteen
}

#[tokio::test]
async fn the_roll_calls_names_add_up_to_the_headcount_of_the_same_day() {
    let app = spawn_app().await;
    let canteen = a_day_of_the_repausset(&app).await;
    let kitchen = app.staff_token(Role::Kitchen).await;
    let roll = app
        .get(
            &format!(
                "/api/v1/restaurants/{}/roll-call?date=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await;
    let roll = roll.assert_status(200).clone();
    let service = &roll["services"][0];
    assert_eq!(roll["services"].as_array().unwrap().len(), 1);
    let names: Vec<(String, String)> = service["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["last_name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // By name; the cancelled day is not there.
    assert_eq!(
        names,
        vec![
            ("BERNARD".to_string(), "requested".to_string()),
            ("DUPONT".to_string(), "booked".to_string()),
            ("MARTIN".to_string(), "awaiting_payment".to_string()),
        ]
    );
    let headcount = app
        .get(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await;
    let headcount = &headcount.assert_status(200)[0];
    assert_eq!(service["booked"], headcount["booked"]);
    // The headcount holds the unconfirmed request's place with those awaiting payment.
    assert_eq!(
        service["awaiting_payment"].as_i64().unwrap() + service["unconfirmed"].as_i64().unwrap(),
        headcount["awaiting_payment"].as_i64().unwrap()
    );
    assert_eq!(service["booked"], 1);

    // Another restaurant's id, and a family, are refused.
    app.get(
        "/api/v1/restaurants/0193a000-0000-7000-8000-000000000000/roll-call?date=2017-01-23",
        &kitchen,
    )
    .await
    .assert_problem(404, "not_found");
    let family = family_with_child(&app, &canteen.admin, "ROBERT", "Zoé").await;
    app.get(
        &format!(
            "/api/v1/restaurants/{}/roll-call?date=2017-01-23",
            canteen.restaurant_id
        ),
        &family.token,
    )
    .await
    .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn the_roll_call_prints_and_downloads_in_both_csv_spellings() {
    let app = spawn_app().await;
    let canteen = a_day_of_the_repausset(&app).await;
    let kitchen = app.staff_token(Role::Kitchen).await;
    let plain = app
        .get_csv(
            &format!(
                "/api/v1/restaurants/{}/roll-call?date=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await;
    let mut lines = plain.lines();
    assert_eq!(
        lines.next().unwrap(),
        "date,restaurant,service,last_name,first_name,meal_option,status,reservation"
    );
    let dupont = plain.lines().find(|l| l.contains("DUPONT")).unwrap();
    assert!(dupont.starts_with(
        "2017-01-23,Restaurant Scolaire Le Repausset,REPAS,DUPONT,Léa,standard,booked,"
    ));
    assert_eq!(plain.lines().count(), 4);

    // The back office's download, for French spreadsheets: `;`, a byte-order mark, French words.
    let (status, french) = cookie_page(
        &app,
        &format!(
            "/gestion/cuisine/{}/appel.csv?date=2017-01-23&format=fr",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .await;
    assert_eq!(status, 200);
    assert!(french.starts_with('\u{feff}'));
    let french = french.trim_start_matches('\u{feff}');
    assert_eq!(
        french.lines().next().unwrap(),
        "Date;Restaurant;Service;Nom;Prénom;Menu;Place;Réservation"
    );
    assert!(french.contains("23/01/2017;Restaurant Scolaire Le Repausset;REPAS;MARTIN;Noé;Standard;En attente de paiement;"));
    assert!(french.contains(";BERNARD;Inès;Standard;Demande non confirmée;"));

    // The printable page: names, options, the counts, and the way to the downloads.
    let (status, page) = cookie_page(
        &app,
        &format!(
            "/gestion/cuisine/appel?restaurant={}&date=2017-01-23",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .await;
    assert_eq!(status, 200);
    for text in [
        "Liste d'appel",
        "DUPONT",
        "MARTIN",
        "BERNARD",
        "1 repas réservé</strong>",
        "1 en attente de paiement",
        "Demande non confirmée",
        "format=fr",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    assert!(
        !page.contains("PETIT"),
        "a cancelled day is not on the list"
    );
    // The kitchen's sheet leads to it.
    let (_, sheet) = cookie_page(&app, "/gestion/cuisine?date=2017-01-23", &kitchen).await;
    assert!(sheet.contains("/gestion/cuisine/appel?restaurant="));
    // The sheet tells a request not yet confirmed from a place awaiting payment (issue 20, 1).
    assert!(
        sheet.contains(r#"data-label="En attente de paiement">1<"#)
            && sheet.contains(r#"data-label="Demandes non confirmées">1<"#),
        "{sheet}"
    );
}

#[tokio::test]
async fn the_headcount_csv_for_french_spreadsheets_has_french_headers() {
    let app = spawn_app().await;
    let canteen = a_day_of_the_repausset(&app).await;
    let kitchen = app.staff_token(Role::Kitchen).await;
    let french = app
        .get_csv(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-23&format=fr",
                canteen.restaurant_id
            ),
            &kitchen,
        )
        .await;
    let french = french.trim_start_matches('\u{feff}');
    let mut lines = french.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Date;Service;Réservés;En attente de paiement;Capacité;Standard;Végétarien;Sans porc"
    );
    assert_eq!(lines.next().unwrap(), "23/01/2017;REPAS;1;2;120;1;0;0");
    app.get(
        &format!(
            "/api/v1/restaurants/{}/headcounts?format=xlsx",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .await
    .assert_problem(400, "invalid_parameter");
}
