//! The consumer of the log that decides which e-mails families receive. It reads the events in
//! commit-safe order like the projections (it is driven by the same projector, under the name
//! `notifications`) and records each e-mail in `mail_outbox`, keyed by the event's position, its
//! kind and its recipient, in the same transaction as its checkpoint: a restart decides nothing
//! twice and skips nothing. Sending is the sender's (`app::jobs::mail_sender`); no command waits
//! for it.
//!
//! It is not among `projections::all()`: a rebuild or an audit replay must not send e-mails
//! again, and the outbox is what was decided, not something derived to be rebuilt.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{PayloadsOf, Projection, StoredEvent};
use crate::domain::notification::{self, Notice, ReservationFacts, Town};
use crate::domain::reservation::{ReservationEvent, ReservationRequested};

pub const NAME: &str = "notifications";

pub struct NotificationsConsumer {
    /// Where families reach the portal (links in the e-mails).
    pub public_url: String,
}

/// Where a family turns off the e-mails it may do without (`List-Unsubscribe`).
pub const PREFERENCES_PATH: &str = "/compte#courriels";

#[async_trait]
impl Projection for NotificationsConsumer {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tables(&self) -> &'static [&'static str] {
        &["mail_outbox"]
    }

    /// The sender reads the outbox as soon as a batch commits: a batch lost in a crash would
    /// be decided, and its e-mails sent, a second time.
    fn commit_durably(&self) -> bool {
        true
    }

    /// Nothing a request answers waits for it.
    fn wakes_on_write(&self) -> bool {
        false
    }

    /// The requests (the largest payloads) are read only when an e-mail needs one.
    fn payloads(&self) -> Option<PayloadsOf> {
        Some(PayloadsOf {
            aggregate_types: &[
                crate::domain::invoice::AGGREGATE_TYPE,
                crate::domain::waitlist::AGGREGATE,
            ],
            event_types: &[
                "ReservationConfirmed",
                "ReservationExpired",
                "ReservationPaid",
                "ReservationReinstated",
                "SepaDebitPresented",
            ],
        })
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        match (event.aggregate_type.as_str(), event.event_type.as_str()) {
            (crate::domain::payment::AGGREGATE_TYPE, "SepaDebitPresented") => {
                return sepa_prenotification(tx, event).await;
            }
            (crate::domain::invoice::AGGREGATE_TYPE, _) => {
                return self.invoice_event(tx, event).await;
            }
            (crate::domain::waitlist::AGGREGATE, "WaitingPlaceOffered") => {
                return place_offered(tx, event).await;
            }
            _ => {}
        }
        if event.aggregate_type != "Reservation"
            || !matches!(
                event.event_type.as_str(),
                "ReservationConfirmed"
                    | "ReservationExpired"
                    | "ReservationPaid"
                    | "ReservationReinstated"
            )
        {
            return Ok(());
        }
        let decided: ReservationEvent = event.decode()?;
        let reservation_id: Uuid = event.aggregate_id.parse()?;
        let Some(request) = requested(tx, &event.aggregate_id).await? else {
            tracing::warn!(reservation = %reservation_id, "no request event: no e-mail");
            return Ok(());
        };
        let town = town(tx, request.organisation_id).await?;
        let facts = ReservationFacts {
            number: request.number,
            child_first_name: request.child.first_name.clone(),
            child_last_name: request.child.last_name.clone(),
            restaurant: request.restaurant.name.clone(),
            period_label: request.period.label.clone(),
            days: request
                .days
                .iter()
                .map(|d| d.date)
                .collect::<Vec<NaiveDate>>(),
        };
        let (notice, at) = match &decided {
            ReservationEvent::ReservationConfirmed(e) => (
                notification::reservation_confirmed(&town, &facts, e.total, e.pay_before),
                e.confirmed_at,
            ),
            ReservationEvent::ReservationExpired(e) => (
                notification::reservation_expired(&town, &facts, e.expired_at),
                e.expired_at,
            ),
            ReservationEvent::ReservationPaid(e) => (
                notification::payment_received(&town, &facts, e.amount, e.paid_at),
                e.paid_at,
            ),
            ReservationEvent::ReservationReinstated(e) => (
                notification::payment_received(&town, &facts, e.amount, e.paid_at),
                e.paid_at,
            ),
            _ => return Ok(()),
        };
        record_for_family(
            tx,
            event.position.global_position,
            request.family_id,
            &notice,
            at,
        )
        .await
    }
}

impl NotificationsConsumer {
    /// A monthly invoice or a credit note issued; an unpaid invoice's reminder.
    async fn invoice_event(
        &self,
        tx: &mut PgConnection,
        event: &StoredEvent,
    ) -> anyhow::Result<()> {
        use crate::domain::invoice::{InvoiceIssued, InvoiceKind, InvoiceReminderSent};
        let (family_id, notice, at) = match event.event_type.as_str() {
            crate::domain::invoice::EVENT_TYPE => {
                let issued: InvoiceIssued = event.decode()?;
                let notice = match issued.kind {
                    InvoiceKind::Monthly => |town: &Town, i: &InvoiceIssued| {
                        notification::invoice_issued(town, &i.number, i.month.as_deref(), i.total)
                    },
                    InvoiceKind::CreditNote => |town: &Town, i: &InvoiceIssued| {
                        notification::credit_note(town, &i.number, i.total)
                    },
                    InvoiceKind::Payment => return Ok(()),
                };
                let town = town_of_family(tx, issued.family_id).await?;
                (issued.family_id, notice(&town, &issued), issued.issued_at)
            }
            crate::domain::invoice::REMINDER_EVENT_TYPE => {
                let reminder: InvoiceReminderSent = event.decode()?;
                let row: Option<(serde_json::Value,)> = sqlx::query_as(
                    "SELECT payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
                       AND event_type = $3 ORDER BY sequence LIMIT 1",
                )
                .bind(crate::domain::invoice::AGGREGATE_TYPE)
                .bind(&event.aggregate_id)
                .bind(crate::domain::invoice::EVENT_TYPE)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((payload,)) = row else {
                    return Ok(());
                };
                let issued: InvoiceIssued = serde_json::from_value(payload)?;
                let town = town_of_family(tx, reminder.family_id).await?;
                let age = (reminder.sent_at - issued.issued_at).num_days();
                let link = format!(
                    "{}/factures/{}",
                    self.public_url.trim_end_matches('/'),
                    issued.invoice_id
                );
                let notice = notification::invoice_reminder(
                    &town,
                    reminder.level,
                    &issued.number,
                    issued.month.as_deref(),
                    age,
                    reminder.due,
                    issued.total,
                    &link,
                );
                (reminder.family_id, notice, reminder.sent_at)
            }
            _ => return Ok(()),
        };
        record_for_family(tx, event.position.global_position, family_id, &notice, at).await
    }
}

/// A freed place went to the first in line: told with its reservation.
async fn place_offered(tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
    use crate::domain::waitlist::WaitingListEvent;
    let WaitingListEvent::WaitingPlaceOffered(offered) = event.decode::<WaitingListEvent>()? else {
        return Ok(());
    };
    let Some(request) = requested(tx, &offered.reservation_id.to_string()).await? else {
        return Ok(());
    };
    let town = town(tx, request.organisation_id).await?;
    let notice = notification::waitlist_place_offered(
        &town,
        &facts_of(&request),
        offered.amount,
        offered.pay_before,
    );
    record_for_family(
        tx,
        event.position.global_position,
        offered.family_id,
        &notice,
        offered.offered_at,
    )
    .await
}

/// A reservation's facts as the e-mails tell them.
pub(crate) fn facts_of(request: &ReservationRequested) -> ReservationFacts {
    ReservationFacts {
        number: request.number,
        child_first_name: request.child.first_name.clone(),
        child_last_name: request.child.last_name.clone(),
        restaurant: request.restaurant.name.clone(),
        period_label: request.period.label.clone(),
        days: request.days.iter().map(|d| d.date).collect(),
    }
}

async fn town_of_family(tx: &mut PgConnection, family_id: Uuid) -> anyhow::Result<Town> {
    let row: Option<(Uuid,)> = sqlx::query_as("SELECT organisation_id FROM families WHERE id = $1")
        .bind(family_id)
        .fetch_optional(&mut *tx)
        .await?;
    town(tx, row.map(|r| r.0).unwrap_or_default()).await
}

/// Records the notice for each of the family's addresses, unless the family turned this kind
/// off (only the kinds it may).
pub(crate) async fn record_for_family(
    tx: &mut PgConnection,
    position: i64,
    family_id: Uuid,
    notice: &Notice,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    if notice.kind.optional() {
        let off: Option<(bool,)> = sqlx::query_as(
            "SELECT enabled FROM family_mail_preferences WHERE family_id = $1 AND kind = $2",
        )
        .bind(family_id)
        .bind(notice.kind.code())
        .fetch_optional(&mut *tx)
        .await?;
        if off.is_some_and(|(enabled,)| !enabled) {
            return Ok(());
        }
    }
    for recipient in recipients(tx, family_id).await? {
        record(tx, position, family_id, &recipient, notice, at).await?;
    }
    Ok(())
}

/// The family is told of a SEPA debit the day its batch is made (the pre-notification).
async fn sepa_prenotification(tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
    let crate::domain::payment::PaymentEvent::SepaDebitPresented(debit) = event.decode()? else {
        return Ok(());
    };
    let town = town(tx, debit.organisation_id).await?;
    let invoices: Vec<String> = debit
        .invoices
        .iter()
        .map(|i| i.invoice_number.clone())
        .collect();
    let notice = notification::sepa_prenotification(
        &town,
        &invoices,
        debit.amount,
        debit.collection_date,
        &debit.rum,
    );
    for recipient in recipients(tx, debit.family_id).await? {
        record(
            tx,
            event.position.global_position,
            debit.family_id,
            &recipient,
            &notice,
            debit.presented_at,
        )
        .await?;
    }
    Ok(())
}

/// The request event of a reservation (its first), in its current shape. Its payload is read
/// as PostgreSQL's text and parsed straight into the event when it is current: a whole-year
/// request carries some 140 days, and going through a `serde_json::Value` tree for each
/// confirmation and payment was a large share of these consumers' CPU in the rush.
pub(crate) async fn requested(
    tx: &mut PgConnection,
    aggregate_id: &str,
) -> anyhow::Result<Option<ReservationRequested>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT event_type, event_version, payload::text FROM events
          WHERE aggregate_type = 'Reservation' AND aggregate_id = $1
            AND event_type = 'ReservationRequested'
          ORDER BY sequence LIMIT 1",
    )
    .bind(aggregate_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((event_type, version, payload)) = row else {
        return Ok(None);
    };
    let event: ReservationEvent = if crate::domain::upcasting::needs_upcast(&event_type, &version) {
        let payload: serde_json::Value = serde_json::from_str(&payload)?;
        let (_, payload) = crate::domain::upcasting::upcast(&event_type, &version, payload)?;
        serde_json::from_value(payload)?
    } else {
        serde_json::from_str(&payload)?
    };
    match event {
        ReservationEvent::ReservationRequested(r) => Ok(Some(*r)),
        _ => Ok(None),
    }
}

async fn town(tx: &mut PgConnection, organisation_id: Uuid) -> anyhow::Result<Town> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT name, address FROM organisations WHERE id = $1")
            .bind(organisation_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (name, address) = row.unwrap_or_else(|| ("Portail famille".into(), String::new()));
    Ok(Town { name, address })
}

/// The family's e-mail addresses: the logins (an e-mail address each) of its accounts still
/// open; a disabled or anonymised account is written to no more.
async fn recipients(tx: &mut PgConnection, family_id: Uuid) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT login FROM users
          WHERE family_id = $1 AND role = 'family' AND disabled_at IS NULL
            AND position('@' IN login) > 1 AND login NOT LIKE '%@invalid'
          ORDER BY created_at, login",
    )
    .bind(family_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().map(|(login,)| login).collect())
}

async fn record(
    tx: &mut PgConnection,
    position: i64,
    family_id: Uuid,
    recipient: &str,
    notice: &Notice,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (event_position, kind, family_id, recipient, subject, text_body,
                                  html_body, next_attempt_at, created_at, unsubscribe_path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         ON CONFLICT (event_position, kind, recipient) DO NOTHING",
    )
    .bind(position)
    .bind(notice.kind.code())
    .bind(family_id)
    .bind(recipient)
    .bind(&notice.subject)
    .bind(&notice.text)
    .bind(&notice.html)
    .bind(at)
    .bind(notice.kind.optional().then_some(PREFERENCES_PATH))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records the reminder of a prepaid hold near its deadline, keyed by its confirmation's
/// position: recorded once whoever decides it and however often.
pub async fn record_hold_reminder(
    pool: &sqlx::PgPool,
    reservation_id: Uuid,
    confirmed_position: i64,
    total: rust_decimal::Decimal,
    pay_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let Some(request) = requested(&mut tx, &reservation_id.to_string()).await? else {
        return Ok(());
    };
    let town = town(&mut tx, request.organisation_id).await?;
    let notice = notification::hold_reminder(&town, &facts_of(&request), total, pay_before);
    record_for_family(&mut tx, confirmed_position, request.family_id, &notice, now).await?;
    tx.commit().await?;
    Ok(())
}
