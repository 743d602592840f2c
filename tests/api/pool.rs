//! The service's connection pools (`db::pool_options`): a connection that answered a moment ago
//! is handed out without a test, but one that died while idle is found out and replaced before
//! a request uses it.

use cantine::db;

use crate::helpers::*;

#[tokio::test]
async fn a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it() {
    let url = fresh_database().await;
    let pool = db::connect(&url, 1).await.unwrap();
    let (backend,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();

    // The pool's only connection loses its backend while it sits idle (a database restart, an
    // administrator ending sessions).
    let other = db::connect(&url, 1).await.unwrap();
    let (ended,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1)")
        .bind(backend)
        .fetch_one(&other)
        .await
        .unwrap();
    assert!(ended);
    tokio::time::sleep(db::IDLE_BEFORE_TEST + std::time::Duration::from_millis(300)).await;

    let (replacement,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("the dead connection is replaced, not handed out");
    assert_ne!(replacement, backend);
}
