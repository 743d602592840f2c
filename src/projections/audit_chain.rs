//! The audit chain: each event's hash covers a canonical form of the event and the previous
//! hash, in commit order. Whoever edits, removes or slips in an event behind the service's back
//! breaks the chain, and `cantine audit verify` says where.
//!
//! The chain is sealed by this projection right after each commit (not inside the writing
//! transaction, where the previous event in commit order is not yet known).

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::{Projection, StoredEvent};

pub struct AuditChainProjection;

pub const NAME: &str = "audit_chain";
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted at every level, so that the same event always hashes the same.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// The canonical form of a stored event: everything an auditor relies on.
pub fn canonical_event(event: &StoredEvent) -> String {
    canonical_json(&serde_json::json!({
        "global_position": event.position.global_position,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "event_version": event.event_version,
        "payload": event.payload,
        "metadata": event.metadata,
        "recorded_at": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    }))
}

pub fn chain_hash(previous: &str, event: &StoredEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_event(event).as_bytes());
    hex::encode(hasher.finalize())
}

#[async_trait]
impl Projection for AuditChainProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_chain"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT chain_index, hash FROM audit_chain ORDER BY chain_index DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (mut index, mut previous) = last.unwrap_or((0, GENESIS.to_string()));
        let mut positions = Vec::with_capacity(events.len());
        let mut indexes = Vec::with_capacity(events.len());
        let mut hashes = Vec::with_capacity(events.len());
        for event in events {
            index += 1;
            previous = chain_hash(&previous, event);
            positions.push(event.position.global_position);
            indexes.push(index);
            hashes.push(previous.clone());
        }
        sqlx::query(
            "INSERT INTO audit_chain (global_position, chain_index, hash)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])",
        )
        .bind(&positions)
        .bind(&indexes)
        .bind(&hashes)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"é"}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":"é","y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"é","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }
}
