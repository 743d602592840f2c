//! Migration 0039: the values large enough to be compressed (a whole-year request's payload, its
//! invoice) are compressed with lz4, and a rebuild of a projection keeps it, since its scratch
//! tables are copied `INCLUDING ALL`.

use std::sync::Arc;

use cantine::projections::{
    self, invoices::InvoicesProjection, reservations::ReservationsProjection, Projection,
};
use serde_json::json;

use crate::helpers::*;

/// How PostgreSQL compressed the stored values of `column` that it compressed, with how many.
async fn compressions(app: &TestApp, table: &str, column: &str) -> Vec<(String, i64)> {
    sqlx::query_as(&format!(
        "SELECT pg_column_compression({column}), count(*) FROM {table}
          WHERE pg_column_compression({column}) IS NOT NULL
          GROUP BY 1 ORDER BY 1"
    ))
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn lz4(count: i64) -> Vec<(String, i64)> {
    vec![("lz4".to_string(), count)]
}

#[tokio::test]
async fn a_whole_year_is_stored_compressed_with_lz4_and_a_rebuild_keeps_it() {
    let app = spawn_app_at("2016-08-20T08:00:00Z".parse().unwrap()).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let year = json!({"child_id": family.child_id, "period_id": canteen.period_id,
                      "selection": {"kind": "whole_period"}});
    let reply = app.post("/api/v1/reservations", &family.token, year).await;
    let booked = reply.assert_status(201)["counts"]["booked"]
        .as_u64()
        .unwrap();
    assert!(booked > 130, "{booked} days booked");
    let id = reply.body["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
        .await
        .assert_status(200);
    pay(&app, &family, &[&id]).await;
    all_fresh(&app).await;

    // The request's payload and its invoice's are the two events large enough to compress.
    assert_eq!(compressions(&app, "events", "payload").await, lz4(2));
    assert_eq!(compressions(&app, "invoice_view", "document").await, lz4(1));
    // Its days all have one price, which its row keeps once (migration 0040): the row is no
    // longer large enough to compress.
    let (price, each): (
        Option<rust_decimal::Decimal>,
        Option<Vec<rust_decimal::Decimal>>,
    ) = sqlx::query_as("SELECT unit_price, unit_prices FROM reservation_view WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(price, Some("4.15".parse().unwrap()));
    assert_eq!(each, None);
    assert_eq!(
        compressions(&app, "reservation_view", "dates").await,
        vec![]
    );

    for projection in [
        Arc::new(ReservationsProjection) as Arc<dyn Projection>,
        Arc::new(InvoicesProjection),
    ] {
        let report = projections::rebuild::rebuild(&app.pool, projection)
            .await
            .unwrap();
        assert!(report.events > 0);
    }
    assert_eq!(
        compressions(&app, "invoice_view", "document").await,
        lz4(1),
        "the rebuilt invoices' table"
    );
}
