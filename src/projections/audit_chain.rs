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

use super::{Pace, Projection, Replay, StoredEvent};

pub struct AuditChainProjection;

pub const NAME: &str = "audit_chain";
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted at every level, so that the same event always hashes the same.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(&mut out, value);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

// Written into one buffer: building a `String` per member and joining them was 30 % of the
// server's instructions under the opening-day workload (callgrind), since every event, with
// its ~140 days, is sealed right after its commit. The bytes are the same.
fn write_canonical(out: &mut Vec<u8>, value: &Value) {
    match value {
        // serde_json's maps iterate in key order unless its `preserve_order` feature is on:
        // then sorting is only a check, and the members need no copy of their keys.
        Value::Object(map) if map.keys().is_sorted() => {
            write_members(out, map.iter());
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by_key(|(key, _)| *key);
            write_members(out, members.into_iter());
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item);
            }
            out.push(b']');
        }
        other => write_scalar(out, other),
    }
}

fn write_members<'a>(out: &mut Vec<u8>, members: impl Iterator<Item = (&'a String, &'a Value)>) {
    out.push(b'{');
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_scalar(out, key);
        out.push(b':');
        write_canonical(out, value);
    }
    out.push(b'}');
}

fn write_scalar<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("strings and JSON scalars serialize");
}

/// The canonical form (`canonical_json`) of the JSON text `text`, written without building a
/// `Value`: the payloads are read as PostgreSQL's own text (`jsonb` output: keys ordered by
/// length, `", "` and `": "` between members) and most of it is copied as it is. Strings
/// without an escape and plain integers are copied; objects have their members put in key
/// order; anything else (escapes, other numbers) goes through serde_json as before, so the
/// bytes are those of `canonical_json(&serde_json::from_str(text)?)`: the chain sealed by the
/// earlier code stays intact. Parsing whole-year payloads into `Value` trees (an allocation
/// per member) and freeing them was most of a replay's CPU.
pub fn write_canonical_text(out: &mut Vec<u8>, text: &str) {
    let start = out.len();
    let mut transcoder = Transcoder {
        input: text.as_bytes(),
        text,
        at: 0,
        members: Vec::new(),
        scratch: Vec::new(),
    };
    let done = transcoder
        .value(out)
        .and_then(|()| {
            transcoder.skip_whitespace();
            if transcoder.at == transcoder.input.len() {
                Ok(())
            } else {
                Err(Unusual)
            }
        })
        .is_ok();
    if !done {
        // Duplicate keys, or text that is not JSON: what the earlier code did with it.
        out.truncate(start);
        match serde_json::from_str::<Value>(text) {
            Ok(value) => write_canonical(out, &value),
            Err(_) => out.extend_from_slice(text.as_bytes()),
        }
    }
}

/// Something the transcoder leaves to serde_json.
struct Unusual;

struct Member<'a> {
    key: std::borrow::Cow<'a, str>,
    /// The key as written (with its quotes), when it needs no escaping.
    raw_key: Option<&'a str>,
    /// The canonical value's bytes, in `out` from where the object starts.
    value: std::ops::Range<usize>,
}

struct Transcoder<'a> {
    input: &'a [u8],
    text: &'a str,
    at: usize,
    /// Members of the objects being read, innermost last.
    members: Vec<Member<'a>>,
    scratch: Vec<u8>,
}

impl<'a> Transcoder<'a> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.input.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, Unusual> {
        self.skip_whitespace();
        self.input.get(self.at).copied().ok_or(Unusual)
    }

    fn expect(&mut self, byte: u8) -> Result<(), Unusual> {
        if self.peek()? == byte {
            self.at += 1;
            Ok(())
        } else {
            Err(Unusual)
        }
    }

    fn value(&mut self, out: &mut Vec<u8>) -> Result<(), Unusual> {
        match self.peek()? {
            b'{' => self.object(out),
            b'[' => {
                self.at += 1;
                out.push(b'[');
                if self.peek()? == b']' {
                    self.at += 1;
                    out.push(b']');
                    return Ok(());
                }
                loop {
                    self.value(out)?;
                    match self.peek()? {
                        b',' => {
                            self.at += 1;
                            out.push(b',');
                        }
                        b']' => {
                            self.at += 1;
                            out.push(b']');
                            return Ok(());
                        }
                        _ => return Err(Unusual),
                    }
                }
            }
            b'"' => {
                let (raw, escaped) = self.string()?;
                if escaped {
                    let decoded: String = serde_json::from_str(raw).map_err(|_| Unusual)?;
                    write_scalar(out, &decoded);
                } else {
                    out.extend_from_slice(raw.as_bytes());
                }
                Ok(())
            }
            b't' => self.literal(out, b"true"),
            b'f' => self.literal(out, b"false"),
            b'n' => self.literal(out, b"null"),
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') =
                    self.input.get(self.at)
                {
                    self.at += 1;
                }
                let token = &self.text[start..self.at];
                let plain = token.len() < 20
                    && token.bytes().all(|b| b.is_ascii_digit())
                    && (token == "0" || !token.starts_with('0'));
                if plain {
                    // A u64, written back by serde_json with the same digits.
                    out.extend_from_slice(token.as_bytes());
                } else {
                    let number: Value = serde_json::from_str(token).map_err(|_| Unusual)?;
                    write_canonical(out, &number);
                }
                Ok(())
            }
            _ => Err(Unusual),
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>, word: &[u8]) -> Result<(), Unusual> {
        if self.input[self.at..].starts_with(word) {
            self.at += word.len();
            out.extend_from_slice(word);
            Ok(())
        } else {
            Err(Unusual)
        }
    }

    /// A string token with its quotes, and whether it holds an escape.
    fn string(&mut self) -> Result<(&'a str, bool), Unusual> {
        let start = self.at;
        self.at += 1;
        let mut escaped = false;
        loop {
            match self.input.get(self.at) {
                None => return Err(Unusual),
                Some(b'"') => {
                    self.at += 1;
                    return Ok((&self.text[start..self.at], escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(0..=0x1f) => return Err(Unusual),
                Some(_) => self.at += 1,
            }
        }
    }

    fn object(&mut self, out: &mut Vec<u8>) -> Result<(), Unusual> {
        self.at += 1;
        let object_start = out.len();
        let first = self.members.len();
        if self.peek()? == b'}' {
            self.at += 1;
            out.extend_from_slice(b"{}");
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(Unusual);
            }
            let (raw, escaped) = self.string()?;
            let (key, raw_key) = if escaped {
                let decoded: String = serde_json::from_str(raw).map_err(|_| Unusual)?;
                (std::borrow::Cow::Owned(decoded), None)
            } else {
                (
                    std::borrow::Cow::Borrowed(&raw[1..raw.len() - 1]),
                    Some(raw),
                )
            };
            self.expect(b':')?;
            let value_start = out.len();
            self.value(out)?;
            self.members.push(Member {
                key,
                raw_key,
                value: value_start - object_start..out.len() - object_start,
            });
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    break;
                }
                _ => return Err(Unusual),
            }
        }
        let members = &mut self.members[first..];
        members.sort_by(|a, b| a.key.cmp(&b.key));
        if members.windows(2).any(|pair| pair[0].key == pair[1].key) {
            // serde_json keeps the last of duplicate keys: left to it.
            return Err(Unusual);
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&out[object_start..]);
        out.truncate(object_start);
        out.push(b'{');
        for (i, member) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match member.raw_key {
                Some(raw) => out.extend_from_slice(raw.as_bytes()),
                None => write_scalar(out, member.key.as_ref()),
            }
            out.push(b':');
            out.extend_from_slice(&self.scratch[member.value.clone()]);
        }
        out.push(b'}');
        self.members.truncate(first);
        Ok(())
    }
}

/// The canonical form of a stored event: everything an auditor relies on.
pub fn canonical_event(event: &StoredEvent) -> String {
    String::from_utf8(canonical_event_bytes(event)).expect("serde_json writes UTF-8")
}

/// The members in sorted key order, as `canonical_json` of the same object would write them,
/// without parsing the payload into a `Value` first.
fn canonical_event_bytes(event: &StoredEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + event.payload.len() + event.metadata.len());
    out.extend_from_slice(b"{\"aggregate_id\":");
    write_scalar(&mut out, &event.aggregate_id);
    out.extend_from_slice(b",\"aggregate_type\":");
    write_scalar(&mut out, &event.aggregate_type);
    out.extend_from_slice(b",\"event_type\":");
    write_scalar(&mut out, &event.event_type);
    out.extend_from_slice(b",\"event_version\":");
    write_scalar(&mut out, &event.event_version);
    out.extend_from_slice(b",\"global_position\":");
    write_scalar(&mut out, &event.position.global_position);
    out.extend_from_slice(b",\"metadata\":");
    write_canonical_text(&mut out, &event.metadata);
    out.extend_from_slice(b",\"payload\":");
    write_canonical_text(&mut out, &event.payload);
    out.extend_from_slice(b",\"recorded_at\":");
    write_scalar(
        &mut out,
        &event
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    );
    out.extend_from_slice(b",\"sequence\":");
    write_scalar(&mut out, &event.sequence);
    out.push(b'}');
    out
}

pub fn chain_hash(previous: &str, event: &StoredEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_event_bytes(event));
    hex::encode(hasher.finalize())
}

#[async_trait]
impl Projection for AuditChainProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Nothing a request answers waits for it.
    fn pace(&self) -> Pace {
        Pace::Tick
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_chain"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let tip = read_tip(tx).await?;
        seal(tx, events, tip).await?;
        Ok(())
    }

    fn replay(&self) -> Box<dyn Replay + '_> {
        Box::new(ChainReplay { tip: None })
    }
}

/// The chain's last link: its index and hash (`0` and [`GENESIS`] before the first event).
type Tip = (i64, String);

async fn read_tip(tx: &mut PgConnection) -> anyhow::Result<Tip> {
    let last: Option<Tip> = sqlx::query_as(
        "SELECT chain_index, hash FROM audit_chain ORDER BY chain_index DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(last.unwrap_or((0, GENESIS.to_string())))
}

/// Seals `events` after `tip`, and returns the new tip.
async fn seal(tx: &mut PgConnection, events: &[StoredEvent], tip: Tip) -> anyhow::Result<Tip> {
    let (mut index, mut previous) = tip;
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
    Ok((index, previous))
}

/// A replay seals each batch as it comes, as the live projection does, but keeps the tip it
/// sealed last instead of reading it back: a replay's copy of the table has no index on
/// `chain_index` until the end (see `rebuild`), and needs none.
struct ChainReplay {
    tip: Option<Tip>,
}

#[async_trait]
impl Replay for ChainReplay {
    async fn feed(&mut self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let tip = match self.tip.take() {
            Some(tip) => tip,
            None => read_tip(tx).await?,
        };
        self.tip = Some(seal(tx, events, tip).await?);
        Ok(())
    }

    async fn flush(&mut self, _tx: &mut PgConnection) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The construction the chain was first sealed with; the faster one must give its bytes.
    fn reference_json(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let members: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{}:{}", Value::String(k.clone()), reference_json(&map[k])))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(reference_json)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => other.to_string(),
        }
    }

    #[test]
    fn the_canonical_event_is_the_canonical_json_of_the_event_as_first_sealed() {
        let payload: Value = serde_json::from_str(
            r#"{"ReservationRequested":{"z":[1,2.5,-3e-7,null,true,{"b":"\"quoted\"\n","a":"é\u0001"}],
                "days":[{"date":"2025-09-01","unit_price":"4.97"}],"n":18446744073709551615}}"#,
        )
        .unwrap();
        let event = StoredEvent {
            position: crate::projections::Position {
                transaction_id: 42,
                global_position: 7,
            },
            aggregate_type: "Reservation".into(),
            aggregate_id: "0190f3c2-\"x\"".into(),
            sequence: 3,
            event_type: "ReservationRequested".into(),
            event_version: "1.1".into(),
            payload: jsonb_text(&payload),
            metadata: jsonb_text(&serde_json::json!({"request_id": "r-1", "actor": "system"})),
            recorded_at: "2025-07-01T06:00:00.123456Z".parse().unwrap(),
        };
        let first_sealed = reference_json(&serde_json::json!({
            "global_position": event.position.global_position,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "sequence": event.sequence,
            "event_type": event.event_type,
            "event_version": event.event_version,
            "payload": payload,
            "metadata": serde_json::json!({"request_id": "r-1", "actor": "system"}),
            "recorded_at": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }));
        assert_eq!(canonical_event(&event), first_sealed);
        assert_eq!(canonical_json(&payload), reference_json(&payload));
    }

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

    /// JSON as PostgreSQL writes a `jsonb` value: keys ordered by length then bytes, `", "`
    /// and `": "` between members and after keys.
    fn jsonb_text(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
                let members: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{}: {}", Value::String(k.clone()), jsonb_text(&map[k])))
                    .collect();
                format!("{{{}}}", members.join(", "))
            }
            Value::Array(items) => format!(
                "[{}]",
                items.iter().map(jsonb_text).collect::<Vec<_>>().join(", ")
            ),
            other => other.to_string(),
        }
    }

    fn transcoded(text: &str) -> String {
        let mut out = Vec::new();
        write_canonical_text(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_canonical_form_from_postgresql_text_is_the_canonical_json_of_its_value() {
        for text in [
            r#"{"ReservationRequested": {"n": 18446744073709551615, "z": [1, 2.5, -3e-7, null, true, {"a": "é\u0001", "b": "\"quoted\"\n"}], "days": [{"date": "2025-09-01", "unit_price": "4.97"}]}}"#,
            r#"{}"#,
            r#"[]"#,
            r#"[{}, [], "", 0, -0, -1, 1.0, 1e2, 12345678901234567890, 007]"#,
            r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "é"}, "é": 1, "\u00e9x": 2, "A\"": 3}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"  {"k" :"v" , "j":[ 1 ,2 ] }  "#,
            r#"{"unterminated": "#,
            r#"{"a": "\ud83d\ude00 \/ \b\f\n\r\t"}"#,
            r#"{"a": tru}"#,
            "\"x\"",
            "17",
            "-17.5e-3",
        ] {
            let expected = match serde_json::from_str::<Value>(text) {
                Ok(value) => canonical_json(&value),
                Err(_) => text.to_string(),
            };
            assert_eq!(transcoded(text), expected, "{text}");
        }
        // What the earlier code hashed: the same bytes, from the `Value` or from its text.
        let value: Value =
            serde_json::json!({"z": {"bb": [1, "x"], "a": null}, "yy": -2, "x": 0.1});
        assert_eq!(transcoded(&jsonb_text(&value)), canonical_json(&value));
        assert_eq!(transcoded(&value.to_string()), canonical_json(&value));
    }

    fn json_values() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[a-z\"\\\\é\u{1}\u{1f}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map("[a-zé\"\\\\]{0,5}|[A-Za-z_]{1,12}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_written_by_postgresql_or_serde_transcodes_to_its_canonical_json(
            value in json_values()
        ) {
            // What the earlier code hashed: the canonical form of the text parsed by serde_json
            // (which may read a float's last digit differently from the value written).
            for text in [
                jsonb_text(&value),
                value.to_string(),
                serde_json::to_string_pretty(&value).unwrap(),
            ] {
                let parsed: Value = serde_json::from_str(&text).unwrap();
                proptest::prop_assert_eq!(transcoded(&text), canonical_json(&parsed));
            }
        }
    }
}
