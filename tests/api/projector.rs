//! The projector's commit order across a power of ten of transaction ids: '999' sorts after
//! '1000' as text, and a batch ordered by the text form checkpointed behind events it had
//! applied, then failed on them for ever (found by the opening-day benchmark).

use serde_json::json;

use cantine::projections::catch_up;
use cantine::projections::reservations::ReservationsProjection;

use crate::helpers::*;

#[tokio::test]
async fn a_batch_crossing_a_power_of_ten_of_transaction_ids_keeps_its_checkpoint() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let second = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    for f in [&family, &second] {
        app.post(
            "/api/v1/reservations",
            &f.token,
            json!({"child_id": f.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await
        .assert_status(201);
    }
    let url = app.database_url.clone();
    // The projectors stop between batches, so none is left half-way in a transaction.
    app.stop_background_cleanly().await;
    drop(app);
    let pool = cantine::db::connect(&url, 2).await.unwrap();
    // Wait for anything else still open before the read model is reset: waited for, not
    // slept on, since a busy machine may take longer than any fixed pause.
    eventually("no other transaction open on the database", || async {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND backend_type = 'client backend'
                AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        open == 0
    })
    .await;
    // The two events as if written by transactions 99 and 100 (both long finished).
    sqlx::query(
        "UPDATE events SET transaction_id = CASE WHEN global_position = (SELECT min(global_position) FROM events)
                                                  THEN '99'::xid8 ELSE '100'::xid8 END",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("TRUNCATE reservation_view, headcount_view, projection_checkpoints")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        catch_up(&pool, &ReservationsProjection)
            .await
            .unwrap()
            .transaction_id,
        100
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM reservation_view")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    let (checkpoint,): (String,) =
        sqlx::query_as("SELECT last_transaction_id::text FROM projection_checkpoints")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(checkpoint, "100");
    // And again: nothing left to apply, nothing applied twice.
    assert_eq!(
        catch_up(&pool, &ReservationsProjection)
            .await
            .unwrap()
            .transaction_id,
        100
    );
}
