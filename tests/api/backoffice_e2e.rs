//! The staff back office walked in a real browser: the real server on a real database with the
//! demo, bookings made through the API (paid, and awaiting payment) so that the kitchen's sheet
//! and the finance pages have something to show, driven by `e2e/backoffice.mjs` in headless
//! Chromium with axe-core on every page. Screenshots 30-49 land in `docs/screenshots/`.
//!
//! Like the portal's walk, this test fails, never skips, when Chromium or the node modules are
//! missing: `.ci/run` installs them (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use cantine::domain::account::Role;
use serde_json::{json, Value};

use crate::browser::{demo_app_for_walk, demo_login, run_walk};
use crate::helpers::*;

const RESTAURANT: &str = "Restaurant Scolaire Le Repausset";

/// A demo family's child by first name, with the family's token.
async fn demo_child(app: &TestApp, token: &str, first_name: &str) -> Family {
    let family = app
        .get("/api/v1/family", token)
        .await
        .assert_status(200)
        .clone();
    let child = family["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["first_name"] == first_name)
        .unwrap_or_else(|| panic!("no child {first_name} in {family}"));
    Family {
        id: family["id"].as_str().unwrap().into(),
        token: token.into(),
        child_id: child["id"].as_str().unwrap().into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_office_in_a_browser() {
    let app = demo_app_for_walk().await;
    let (dupont_login, dupont_password, _) = cantine::app::demo::LOGINS[0];
    let (martin_login, martin_password, _) = cantine::app::demo::LOGINS[1];

    // Bookings through the API: the Dupont children paid on the 23rd and 24th, Inès Martin
    // confirmed on the 23rd but not paid yet.
    let dupont_token = app.token(dupont_login, dupont_password).await;
    let establishments = app
        .get("/api/v1/establishments", &dupont_token)
        .await
        .assert_status(200)
        .clone();
    let repausset = establishments
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == RESTAURANT)
        .unwrap();
    let canteen = Canteen {
        admin: String::new(),
        restaurant_id: repausset["id"].as_str().unwrap().into(),
        period_id: repausset["periods"][0]["id"].as_str().unwrap().into(),
    };
    let herve = demo_child(&app, &dupont_token, "Hervé").await;
    let lea = demo_child(&app, &dupont_token, "Léa").await;
    let first = book_and_confirm(&app, &canteen, &herve, &["2017-01-23", "2017-01-24"]).await;
    let second = book_and_confirm(&app, &canteen, &lea, &["2017-01-23"]).await;
    pay(&app, &herve, &[&first, &second]).await;
    let martin_token = app.token(martin_login, martin_password).await;
    let ines = demo_child(&app, &martin_token, "Inès").await;
    book_and_confirm(&app, &canteen, &ines, &["2017-01-23"]).await;
    all_fresh(&app).await;

    // What the API says, for the page to show.
    let kitchen_token = app.staff_token(Role::Kitchen).await;
    let headcount = app
        .get(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-23",
                canteen.restaurant_id
            ),
            &kitchen_token,
        )
        .await
        .assert_status(200)
        .clone();
    let day = &headcount[0];
    assert_eq!(day["booked"], 2, "{headcount}");
    assert_eq!(day["awaiting_payment"], 1, "{headcount}");
    let finance_token = app.staff_token(Role::Finance).await;
    let invoices = app
        .get(
            "/api/v1/finance/invoices?from=2017-01-01&to=2017-01-31",
            &finance_token,
        )
        .await
        .assert_status(200)
        .clone();
    // The Martin family brought 10.00 € in cash with nothing to pay: its credit, which the
    // walk pays back by transfer on the refunds page.
    app.post(
        "/api/v1/finance/payments",
        &finance_token,
        json!({"family_id": ines.id, "method": "cash", "amount": "10.00"}),
    )
    .await
    .assert_status(201);
    let expect: Value = json!({
        "day": "2017-01-23",
        "restaurant": RESTAURANT,
        "family": "DUPONT",
        "invoice": invoices[0]["number"],
        "standard": day["by_meal_option"]["standard"],
        "vegetarian": day["by_meal_option"]["vegetarian"],
        "no_pork": day["by_meal_option"]["no_pork"],
        "booked": day["booked"],
        "awaiting": day["awaiting_payment"],
    });

    let (kitchen, kitchen_password) = demo_login(Role::Kitchen);
    let (finance, finance_password) = demo_login(Role::Finance);
    let (admin, admin_password) = demo_login(Role::Admin);
    let (auditor, auditor_password) = demo_login(Role::Auditor);
    let expect = expect.to_string();
    run_walk(
        "backoffice.mjs",
        &[
            app.address.as_str(),
            kitchen,
            kitchen_password,
            finance,
            finance_password,
            admin,
            admin_password,
            dupont_login,
            dupont_password,
            auditor,
            auditor_password,
        ],
        &[("EXPECT", &expect)],
        "back office walked",
    )
    .await;
    // The document the walk published is the one stored (beside the demo's two).
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM documents WHERE withdrawn_at IS NULL AND file_name = 'Règlement cantine.pdf'",
    )
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
}
