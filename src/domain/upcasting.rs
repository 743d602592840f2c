//! Events are never edited: when an event's shape changes, its version goes up and older
//! payloads are read through an upcaster that brings them to the current shape. The same
//! function serves the event store (aggregates) and the projectors.

use serde_json::Value;

type Upcaster = fn(Value) -> anyhow::Result<Value>;

/// (event type, from version, to version, how).
const UPCASTERS: &[(&str, &str, &str, Upcaster)] = &[
    ("ReservationRequested", "1.0", "1.1", requested_1_0_to_1_1),
    ("ReservationRequested", "1.1", "2.0", requested_1_1_to_2_0),
    ("DaysCancelled", "1.0", "1.1", cancelled_1_0_to_1_1),
    ("DaysCancelled", "1.1", "1.2", cancelled_1_1_to_1_2),
    ("PaymentStarted", "1.0", "1.1", started_1_0_to_1_1),
];

/// ReservationRequested 2.0 writes its days as runs sharing service, meal option and price
/// (`reservation::day_runs`); 1.x wrote each day whole.
fn requested_1_1_to_2_0(mut payload: Value) -> anyhow::Result<Value> {
    let days = payload
        .get_mut("ReservationRequested")
        .and_then(|e| e.get_mut("days"))
        .ok_or_else(|| anyhow::anyhow!("ReservationRequested 1.1 without its days"))?;
    *days = crate::domain::reservation::runs_of_stored_days(days.take())?;
    Ok(payload)
}

/// DaysCancelled 1.2 may carry a late cancellation's grant; before it, none was ever granted,
/// which its absence already says.
fn cancelled_1_1_to_1_2(payload: Value) -> anyhow::Result<Value> {
    Ok(payload)
}

/// PaymentStarted 1.1 may pay invoices; a 1.0 payment paid reservations only.
fn started_1_0_to_1_1(mut payload: Value) -> anyhow::Result<Value> {
    let event = payload
        .get_mut("PaymentStarted")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow::anyhow!("PaymentStarted 1.0 without its body"))?;
    event.entry("invoices").or_insert(Value::Array(Vec::new()));
    Ok(payload)
}

/// DaysCancelled 1.1 says what the family was credited. Before credits existed nothing was.
fn cancelled_1_0_to_1_1(mut payload: Value) -> anyhow::Result<Value> {
    let event = payload
        .get_mut("DaysCancelled")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow::anyhow!("DaysCancelled 1.0 without its body"))?;
    event.entry("credited").or_insert(Value::String("0".into()));
    Ok(payload)
}

/// ReservationRequested 1.1 carries the period's cancellation cut-off. Before it existed, a day
/// could be cancelled until its booking cut-off: that is what 1.0 events get.
fn requested_1_0_to_1_1(mut payload: Value) -> anyhow::Result<Value> {
    let period = payload
        .get_mut("ReservationRequested")
        .and_then(|e| e.get_mut("period"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow::anyhow!("ReservationRequested 1.0 without a period"))?;
    let booking = period
        .get("booking_cutoff")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("ReservationRequested 1.0 without a booking cut-off"))?;
    period.entry("cancellation_cutoff").or_insert(booking);
    Ok(payload)
}

/// Brings a stored payload to the current version of its event type.
pub fn upcast(event_type: &str, version: &str, payload: Value) -> anyhow::Result<(String, Value)> {
    let mut version = version.to_string();
    let mut payload = payload;
    while let Some((_, _, to, upcaster)) = UPCASTERS
        .iter()
        .find(|(t, from, _, _)| *t == event_type && *from == version)
    {
        payload = upcaster(payload)?;
        version = to.to_string();
    }
    Ok((version, payload))
}

/// Whether a payload of this type and version has an upcaster to go through.
pub fn needs_upcast(event_type: &str, version: &str) -> bool {
    UPCASTERS
        .iter()
        .any(|(t, from, _, _)| *t == event_type && *from == version)
}

/// Whether any stored version of this event type has an upcaster.
pub fn has_upcasters(event_type: &str) -> bool {
    UPCASTERS.iter().any(|(t, _, _, _)| *t == event_type)
}

/// The cqrs-es side: aggregates are loaded through the same upcasters.
pub struct StoreUpcaster;

impl cqrs_es::persist::EventUpcaster for StoreUpcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        needs_upcast(event_type, event_version)
    }

    fn upcast(
        &self,
        event: cqrs_es::persist::SerializedEvent,
    ) -> cqrs_es::persist::SerializedEvent {
        let cqrs_es::persist::SerializedEvent {
            aggregate_id,
            sequence,
            aggregate_type,
            event_type,
            event_version,
            payload,
            metadata,
        } = event;
        // A payload that cannot be upcast is left as it is; deserialising it then fails loudly.
        let (event_version, payload) = match upcast(&event_type, &event_version, payload.clone()) {
            Ok(upcast) => upcast,
            Err(e) => {
                tracing::error!(%event_type, %event_version, error = %e, "upcasting failed");
                (event_version, payload)
            }
        };
        cqrs_es::persist::SerializedEvent {
            aggregate_id,
            sequence,
            aggregate_type,
            event_type,
            event_version,
            payload,
            metadata,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reservation::ReservationEvent;

    /// A ReservationRequested exactly as version 1.0 stored it.
    pub const REQUESTED_1_0: &str = r#"{"ReservationRequested":{"reservation_id":"00000000-0000-0000-0000-000000000006","number":14,
        "organisation_id":"00000000-0000-0000-0000-000000000005","family_id":"00000000-0000-0000-0000-000000000001",
        "child":{"id":"00000000-0000-0000-0000-000000000003","first_name":"Hervé","last_name":"DUPONT","meal_option":"standard"},
        "restaurant":{"id":"00000000-0000-0000-0000-000000000008","name":"Restaurant Scolaire Le Repausset"},
        "period":{"id":"00000000-0000-0000-0000-000000000004","activity":"CANTINE SCOLAIRE","label":"Restauration Le Repausset 2016-2017",
          "service":{"label":"REPAS","start":"12:00","end":"13:00"},"payment":{"mode":"prepaid","hold_minutes":60},
          "booking_cutoff":{"kind":"weekday_of_previous_week","weekday":"tue","time":"09:30"}},
        "days":[{"date":"2017-01-23","service":"REPAS","meal_option":"standard","unit_price":"4.15"}],
        "total":"4.15","requested_at":"2017-01-11T13:38:00Z"}}"#;

    #[test]
    fn a_1_0_request_reads_with_the_booking_cutoff_as_cancellation_cutoff() {
        let stored: Value = serde_json::from_str(REQUESTED_1_0).unwrap();
        assert!(
            serde_json::from_value::<ReservationEvent>(stored.clone()).is_err(),
            "1.0 is not the current shape"
        );
        let (version, payload) = upcast("ReservationRequested", "1.0", stored).unwrap();
        assert_eq!(version, "2.0");
        match serde_json::from_value::<ReservationEvent>(payload).unwrap() {
            ReservationEvent::ReservationRequested(e) => {
                assert_eq!(e.period.cancellation_cutoff, e.period.booking_cutoff);
                assert_eq!(e.number, 14);
                assert_eq!(e.days.len(), 1);
                assert_eq!(e.days[0].date.to_string(), "2017-01-23");
                assert_eq!(e.days[0].unit_price.to_string(), "4.15");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_1_1_request_reads_its_days_one_by_one_and_writes_them_as_runs() {
        let mut stored: Value = serde_json::from_str(REQUESTED_1_0).unwrap();
        let event = &mut stored["ReservationRequested"];
        event["period"]["cancellation_cutoff"] = event["period"]["booking_cutoff"].clone();
        event["days"] = serde_json::json!([
            {"date": "2017-01-23", "service": "REPAS", "meal_option": "standard", "unit_price": "4.15"},
            {"date": "2017-01-24", "service": "REPAS", "meal_option": "standard", "unit_price": "4.15"},
            {"date": "2017-01-26", "service": "REPAS", "meal_option": "standard", "unit_price": "4.150"},
        ]);
        event["total"] = "12.45".into();
        let (version, payload) = upcast("ReservationRequested", "1.1", stored).unwrap();
        assert_eq!(version, "2.0");
        assert_eq!(
            payload["ReservationRequested"]["days"],
            serde_json::json!([
                {"service": "REPAS", "meal_option": "standard", "unit_price": "4.15",
                 "dates": ["2017-01-23", "2017-01-24"]},
                {"service": "REPAS", "meal_option": "standard", "unit_price": "4.150",
                 "dates": ["2017-01-26"]},
            ])
        );
        let event: ReservationEvent = serde_json::from_value(payload.clone()).unwrap();
        let ReservationEvent::ReservationRequested(requested) = &event else {
            panic!("unexpected {event:?}")
        };
        let days: Vec<String> = requested
            .days
            .iter()
            .map(|d| format!("{} {} {}", d.date, d.meal_option, d.unit_price))
            .collect();
        assert_eq!(
            days,
            [
                "2017-01-23 standard 4.15",
                "2017-01-24 standard 4.15",
                "2017-01-26 standard 4.150"
            ]
        );
        // Written again, its days are the upcast runs, every price's text kept.
        assert_eq!(
            serde_json::to_value(&event).unwrap()["ReservationRequested"]["days"],
            payload["ReservationRequested"]["days"]
        );
    }

    #[test]
    fn a_1_0_cancellation_credited_nothing() {
        let stored = serde_json::json!({"DaysCancelled": {"cancelled_at": "2017-01-12T10:00:00Z", "days": ["2017-01-23"],
            "amount": "4.15", "remaining_total": "0", "reservation_cancelled": true}});
        let (version, payload) = upcast("DaysCancelled", "1.0", stored).unwrap();
        assert_eq!(version, "1.2");
        match serde_json::from_value::<ReservationEvent>(payload).unwrap() {
            ReservationEvent::DaysCancelled(e) => {
                assert_eq!(e.credited, rust_decimal::Decimal::ZERO)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn current_versions_pass_through() {
        let payload = serde_json::json!({"ReservationPaid": {}});
        assert_eq!(
            upcast("ReservationPaid", "1.0", payload.clone()).unwrap(),
            ("1.0".to_string(), payload)
        );
    }
}
