//! Refunds (issue 17, point 3): a family's credit (avoirs) paid back by bank transfer,
//! recorded by finance; refusals change nothing; the ledger, the family's file, the month's
//! refunds export and the reconciliation show it; the finance page's form.

use serde_json::{json, Value};
use uuid::Uuid;

use cantine::domain::account::Role;

use crate::helpers::*;

#[tokio::test]
async fn finance_pays_a_familys_credit_back_by_transfer() {
    let app = spawn_app().await;
    app.stop_jobs();
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Léo").await;
    let finance = app.staff_token(Role::Finance).await;
    // 10.00 in cash with no invoice to pay: all kept as the family's credit.
    app.post(
        "/api/v1/finance/payments",
        &finance,
        json!({"family_id": family.id, "method": "cash", "amount": "10.00"}),
    )
    .await
    .assert_status(201);
    all_fresh(&app).await;
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "10.00");

    // Refusals, with their codes; nothing recorded.
    let before = app.event_count().await;
    let refund = |body: Value| {
        let app = &app;
        let finance = finance.clone();
        async move { app.post("/api/v1/finance/refunds", &finance, body).await }
    };
    for (amount, code) in [
        ("0", "invalid_amount"),
        ("0.00", "invalid_amount"),
        ("-5.00", "invalid_amount"),
        ("1.001", "invalid_amount"),
        ("10.01", "amount_exceeds_credit"),
    ] {
        refund(json!({"family_id": family.id, "amount": amount, "reference": "VIR-1"}))
            .await
            .assert_problem(422, code);
    }
    // The other family has no credit at all.
    refund(json!({"family_id": other.id, "amount": "1.00", "reference": "VIR-1"}))
        .await
        .assert_problem(422, "amount_exceeds_credit");
    refund(json!({"family_id": family.id, "amount": "5.00", "reference": "  "}))
        .await
        .assert_problem(422, "reference_required");
    refund(json!({"family_id": Uuid::new_v4(), "amount": "5.00", "reference": "VIR-1"}))
        .await
        .assert_problem(404, "not_found");
    refund(json!({"family_id": family.id, "amount": "cinq", "reference": "VIR-1"}))
        .await
        .assert_status(400);
    refund(json!({"family_id": family.id, "amount": "5.00"}))
        .await
        .assert_status(400);
    // Not finance's to do for others.
    app.post(
        "/api/v1/finance/refunds",
        &canteen.admin,
        json!({"family_id": family.id, "amount": "5.00", "reference": "VIR-1"}),
    )
    .await
    .assert_status(403);
    assert_eq!(app.event_count().await, before, "refusals record nothing");

    // 6.00 paid back: 4.00 of credit left.
    let done =
        refund(json!({"family_id": family.id, "amount": "6.00", "reference": "VIR-2017-0042"}))
            .await;
    let done = done.assert_status(201).clone();
    assert_eq!(done["amount"], "6.00");
    assert_eq!(done["credit_left"], "4.00");
    let (payload, role, actor): (Value, String, String) = sqlx::query_as(
        "SELECT payload, metadata->>'actor_role', metadata->>'actor' FROM events
          WHERE event_type = 'CreditRefunded'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(role, "finance");
    let staff: String = sqlx::query_scalar("SELECT id::text FROM users WHERE role = 'finance'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(actor, staff, "the staff member is the event's actor");
    assert_eq!(payload["CreditRefunded"]["reference"], "VIR-2017-0042");
    // More than what is left is refused.
    refund(json!({"family_id": family.id, "amount": "4.01", "reference": "VIR-2"}))
        .await
        .assert_problem(422, "amount_exceeds_credit");

    // The ledger shows it; the credit left is what the next payment would spend.
    all_fresh(&app).await;
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "4.00");
    assert_eq!(ledger.body["balance"], "4.00");
    let text = ledger.body.to_string();
    assert!(
        text.contains("Remboursement de l'avoir par virement (VIR-2017-0042)"),
        "{text}"
    );
    assert!(text.contains("-6.00"), "{text}");

    // The month's refunds export and reconciliation.
    let month = app.state.clock.paris_today().format("%Y-%m").to_string();
    let csv = app
        .get_csv(
            &format!("/api/v1/finance/exports/refunds?month={month}"),
            &finance,
        )
        .await;
    assert!(
        csv.starts_with(
            "payment_id,reservation_id,recorded_on,family,family_id,reason,amount,method,reference"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("credit_refund,6.00,transfer,VIR-2017-0042"),
        "{csv}"
    );
    let report = app
        .get(
            &format!("/api/v1/finance/reconciliation?month={month}"),
            &finance,
        )
        .await;
    assert_eq!(
        report.assert_status(200)["balanced"],
        true,
        "{}",
        report.body
    );

    // The family's file (front desk, admin) shows it.
    let (status, page) = cookie_page(
        &app,
        &format!("/gestion/familles/{}/dossier", family.id),
        &canteen.admin,
    )
    .await;
    assert_eq!(status, 200);
    assert_shows(
        &page,
        &[
            "Avoir disponible</dt><dd>4,00 €",
            "Remboursement</td><td data-label=\"Pièce\">VIR-2017-0042",
            "-6,00 €",
        ],
    );

    // The finance page lists the family with its 4,00 € and records the rest in French.
    let (status, page) = cookie_page(&app, "/gestion/finances/remboursements", &finance).await;
    assert_eq!(status, 200);
    assert!(page.contains("GARCIA – avoir de 4,00"), "{page}");
    assert!(!page.contains("MARTIN"), "{page}");
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &finance);
    let refused = cookie_form(
        &app,
        "/gestion/finances/remboursements",
        &finance,
        &[
            ("csrf", &csrf),
            ("famille", &family.id),
            ("montant", "4,50"),
            ("reference", "VIR-3"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Le montant dépasse l'avoir de la famille"));
    let recorded = cookie_form(
        &app,
        "/gestion/finances/remboursements",
        &finance,
        &[
            ("csrf", &csrf),
            ("famille", &family.id),
            ("montant", "4,00"),
            ("reference", "VIR-3"),
        ],
    )
    .await;
    assert_eq!(recorded.status(), 303);
    assert_eq!(
        location(&recorded).as_deref(),
        Some("/gestion/finances/remboursements?rembourse=4,00#contenu")
    );
    let (_, page) = cookie_page(&app, "/gestion/finances/remboursements", &finance).await;
    assert!(
        page.contains("Aucune famille n&#39;a d&#39;avoir à rembourser")
            || page.contains("Aucune famille n'a d'avoir à rembourser"),
        "{page}"
    );
    all_fresh(&app).await;
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "0.00");
    assert_eq!(ledger.body["balance"], "0.00");

    // A replay from zero gives the same ledger.
    for difference in cantine::projections::rebuild::verify(&app.pool, &cantine::projections::all())
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}
