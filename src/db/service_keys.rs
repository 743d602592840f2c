//! Keys the service makes for itself: random, made once, stored so that every server on the
//! database and every restart uses the same one.

use rand::RngCore;
use sqlx::PgPool;

/// The key called `name`, made now if it does not exist yet (the first server to ask wins).
pub async fn key(pool: &PgPool, name: &str) -> sqlx::Result<Vec<u8>> {
    let mut fresh = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut fresh);
    sqlx::query(
        "INSERT INTO service_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(&fresh)
    .execute(pool)
    .await?;
    let (secret,): (Vec<u8>,) = sqlx::query_as("SELECT secret FROM service_keys WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(secret)
}
