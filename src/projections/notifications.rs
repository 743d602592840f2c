//! The consumer of the log that decides which e-mails families receive. It reads the events in
//! commit-safe order like the projections (it is driven by the same projector, under the name
//! `notifications`) and records each e-mail in `mail_outbox`, keyed by the event's position, its
//! kind and its recipient, in the same transaction as its checkpoint: a restart decides nothing
//! twice and skips nothing. Sending is the sender's (`app::jobs::mail_sender`); no command waits
//! for it.
//!
//! It is not among `projections::all()`: a rebuild or an audit replay must not send e-mails
//! again, and the outbox is what was decided, not something derived to be rebuilt.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Pace, PayloadsOf, Projection, StoredEvent};
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
    fn pace(&self) -> Pace {
        Pace::Tick
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
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    /// Decides the whole batch's e-mails first, reading only, then writes them in one
    /// statement: the batch's transaction takes an xid only at its end, so its reads do not
    /// hold back the horizon below which the rush's hot rows are pruned.
    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut outbox = Outbox::default();
        let mut lookups = Lookups::prefetch(tx, events).await?;
        for event in events {
            self.decide(tx, &mut lookups, &mut outbox, event).await?;
        }
        outbox.write(tx).await
    }
}

impl NotificationsConsumer {
    async fn decide(
        &self,
        tx: &mut PgConnection,
        lookups: &mut Lookups,
        outbox: &mut Outbox,
        event: &StoredEvent,
    ) -> anyhow::Result<()> {
        match (event.aggregate_type.as_str(), event.event_type.as_str()) {
            (crate::domain::payment::AGGREGATE_TYPE, "SepaDebitPresented") => {
                return sepa_prenotification(tx, lookups, outbox, event).await;
            }
            (crate::domain::invoice::AGGREGATE_TYPE, _) => {
                return self.invoice_event(tx, lookups, outbox, event).await;
            }
            (crate::domain::waitlist::AGGREGATE, "WaitingPlaceOffered") => {
                return place_offered(tx, lookups, outbox, event).await;
            }
            _ => {}
        }
        if event.aggregate_type != "Reservation" || !tells_family(&event.event_type) {
            return Ok(());
        }
        let decided: ReservationEvent = event.decode()?;
        let Some(request) = lookups.requested(tx, &event.aggregate_id).await? else {
            tracing::warn!(reservation = %event.aggregate_id, "no request event: no e-mail");
            return Ok(());
        };
        let town = lookups.town(tx, request.organisation_id).await?;
        let facts = facts_of(&request);
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
        let family_id = request.family_id;
        record_for_family(
            tx,
            lookups,
            outbox,
            event.position.global_position,
            family_id,
            &notice,
            at,
        )
        .await
    }

    /// A monthly invoice or a credit note issued; an unpaid invoice's reminder.
    async fn invoice_event(
        &self,
        tx: &mut PgConnection,
        lookups: &mut Lookups,
        outbox: &mut Outbox,
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
                let town = town_of_family(tx, lookups, issued.family_id).await?;
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
                let town = town_of_family(tx, lookups, reminder.family_id).await?;
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
        record_for_family(
            tx,
            lookups,
            outbox,
            event.position.global_position,
            family_id,
            &notice,
            at,
        )
        .await
    }
}

/// A freed place went to the first in line: told with its reservation.
async fn place_offered(
    tx: &mut PgConnection,
    lookups: &mut Lookups,
    outbox: &mut Outbox,
    event: &StoredEvent,
) -> anyhow::Result<()> {
    use crate::domain::waitlist::WaitingListEvent;
    let WaitingListEvent::WaitingPlaceOffered(offered) = event.decode::<WaitingListEvent>()? else {
        return Ok(());
    };
    let Some(request) = lookups
        .requested(tx, &offered.reservation_id.to_string())
        .await?
    else {
        return Ok(());
    };
    let town = lookups.town(tx, request.organisation_id).await?;
    let notice = notification::waitlist_place_offered(
        &town,
        &facts_of(&request),
        offered.amount,
        offered.pay_before,
    );
    record_for_family(
        tx,
        lookups,
        outbox,
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

async fn town_of_family(
    tx: &mut PgConnection,
    lookups: &mut Lookups,
    family_id: Uuid,
) -> anyhow::Result<Town> {
    let row: Option<(Uuid,)> = sqlx::query_as("SELECT organisation_id FROM families WHERE id = $1")
        .bind(family_id)
        .fetch_optional(&mut *tx)
        .await?;
    lookups.town(tx, row.map(|r| r.0).unwrap_or_default()).await
}

/// Records the notice for each of the family's addresses, unless the family turned this kind
/// off (only the kinds it may).
pub(crate) async fn record_for_family(
    tx: &mut PgConnection,
    lookups: &mut Lookups,
    outbox: &mut Outbox,
    position: i64,
    family_id: Uuid,
    notice: &Notice,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    if notice.kind.optional() && lookups.muted(tx, family_id, notice.kind.code()).await? {
        return Ok(());
    }
    for recipient in lookups.recipients(tx, family_id).await? {
        outbox.push(position, family_id, recipient, notice, at);
    }
    Ok(())
}

/// The family is told of a SEPA debit the day its batch is made (the pre-notification).
async fn sepa_prenotification(
    tx: &mut PgConnection,
    lookups: &mut Lookups,
    outbox: &mut Outbox,
    event: &StoredEvent,
) -> anyhow::Result<()> {
    let crate::domain::payment::PaymentEvent::SepaDebitPresented(debit) = event.decode()? else {
        return Ok(());
    };
    let town = lookups.town(tx, debit.organisation_id).await?;
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
    for recipient in lookups.recipients(tx, debit.family_id).await? {
        outbox.push(
            event.position.global_position,
            debit.family_id,
            recipient,
            &notice,
            debit.presented_at,
        );
    }
    Ok(())
}

/// The statement that reads a reservation's request event (its first); `$1` is an array of
/// reservation ids.
const REQUESTS: &str =
    "SELECT DISTINCT ON (aggregate_id) aggregate_id, event_type, event_version, payload::text
       FROM events
      WHERE aggregate_type = 'Reservation' AND aggregate_id = ANY($1)
        AND event_type = 'ReservationRequested'
      ORDER BY aggregate_id, sequence";

/// The request event of a reservation (its first), in its current shape.
pub(crate) async fn requested(
    tx: &mut PgConnection,
    aggregate_id: &str,
) -> anyhow::Result<Option<ReservationRequested>> {
    let mut requests = requests(tx, &[aggregate_id.to_string()]).await?;
    Ok(requests.remove(aggregate_id))
}

/// The request events of these reservations, in their current shape. Each payload is read as
/// PostgreSQL's text and parsed straight into the event when it is current: a whole-year
/// request carries some 140 days, and going through a `serde_json::Value` tree for each
/// confirmation and payment was a large share of these consumers' CPU in the rush.
async fn requests(
    tx: &mut PgConnection,
    aggregate_ids: &[String],
) -> anyhow::Result<HashMap<String, ReservationRequested>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(REQUESTS)
        .bind(aggregate_ids)
        .fetch_all(&mut *tx)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for (aggregate_id, event_type, version, payload) in rows {
        let event: ReservationEvent =
            if crate::domain::upcasting::needs_upcast(&event_type, &version) {
                let payload: serde_json::Value = serde_json::from_str(&payload)?;
                let (_, payload) =
                    crate::domain::upcasting::upcast(&event_type, &version, payload)?;
                serde_json::from_value(payload)?
            } else {
                serde_json::from_str(&payload)?
            };
        if let ReservationEvent::ReservationRequested(r) = event {
            found.insert(aggregate_id, *r);
        }
    }
    Ok(found)
}

/// The family's e-mail addresses: the logins (an e-mail address each) of its accounts still
/// open; a disabled or anonymised account is written to no more. `$1` is an array of families.
const RECIPIENTS: &str = "SELECT family_id, login FROM users
      WHERE family_id = ANY($1) AND role = 'family' AND disabled_at IS NULL
        AND position('@' IN login) > 1 AND login NOT LIKE '%@invalid'
      ORDER BY family_id, created_at, login";

/// The kinds of e-mail these families turned off. `$1` is an array of families.
const MUTED: &str = "SELECT family_id, kind FROM family_mail_preferences
      WHERE family_id = ANY($1) AND NOT enabled";

/// What a batch's e-mails need to know, read a few statements per batch rather than four or
/// five per event: the request of each reservation the batch decides about, the addresses and
/// muted kinds of their families, the towns. What the prefetch could not foresee (an invoice's
/// family, a waiting list's reservation) is read when asked and kept for the rest of the batch.
#[derive(Default)]
pub(crate) struct Lookups {
    requests: HashMap<String, Option<Arc<ReservationRequested>>>,
    towns: HashMap<Uuid, Town>,
    recipients: HashMap<Uuid, Vec<String>>,
    muted: HashMap<Uuid, HashSet<String>>,
}

impl Lookups {
    /// Reads at once what the batch's reservation events will ask for.
    async fn prefetch(tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<Self> {
        let mut lookups = Lookups::default();
        let mut ids: Vec<String> = events
            .iter()
            .filter(|e| e.aggregate_type == "Reservation" && tells_family(&e.event_type))
            .map(|e| e.aggregate_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(lookups);
        }
        let mut found = requests(tx, &ids).await?;
        for id in ids {
            let request = found.remove(&id).map(Arc::new);
            lookups.requests.insert(id, request);
        }
        let mut families: Vec<Uuid> = lookups
            .requests
            .values()
            .flatten()
            .map(|r| r.family_id)
            .collect();
        families.sort_unstable();
        families.dedup();
        lookups.fetch_families(tx, &families).await?;
        Ok(lookups)
    }

    /// The addresses and muted kinds of these families.
    async fn fetch_families(
        &mut self,
        tx: &mut PgConnection,
        families: &[Uuid],
    ) -> anyhow::Result<()> {
        for family in families {
            self.recipients.entry(*family).or_default();
            self.muted.entry(*family).or_default();
        }
        let rows: Vec<(Uuid, String)> = sqlx::query_as(RECIPIENTS)
            .bind(families)
            .fetch_all(&mut *tx)
            .await?;
        for (family, login) in rows {
            self.recipients.entry(family).or_default().push(login);
        }
        let rows: Vec<(Uuid, String)> = sqlx::query_as(MUTED)
            .bind(families)
            .fetch_all(&mut *tx)
            .await?;
        for (family, kind) in rows {
            self.muted.entry(family).or_default().insert(kind);
        }
        Ok(())
    }

    async fn requested(
        &mut self,
        tx: &mut PgConnection,
        aggregate_id: &str,
    ) -> anyhow::Result<Option<Arc<ReservationRequested>>> {
        if let Some(request) = self.requests.get(aggregate_id) {
            return Ok(request.clone());
        }
        let request = requested(tx, aggregate_id).await?.map(Arc::new);
        self.requests
            .insert(aggregate_id.to_string(), request.clone());
        Ok(request)
    }

    async fn town(&mut self, tx: &mut PgConnection, organisation_id: Uuid) -> anyhow::Result<Town> {
        if let Some(town) = self.towns.get(&organisation_id) {
            return Ok(town.clone());
        }
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT name, address FROM organisations WHERE id = $1")
                .bind(organisation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (name, address) = row.unwrap_or_else(|| ("Portail famille".into(), String::new()));
        let town = Town { name, address };
        self.towns.insert(organisation_id, town.clone());
        Ok(town)
    }

    async fn recipients(
        &mut self,
        tx: &mut PgConnection,
        family_id: Uuid,
    ) -> anyhow::Result<&[String]> {
        if !self.recipients.contains_key(&family_id) {
            self.fetch_families(tx, &[family_id]).await?;
        }
        Ok(&self.recipients[&family_id])
    }

    async fn muted(
        &mut self,
        tx: &mut PgConnection,
        family_id: Uuid,
        kind: &str,
    ) -> anyhow::Result<bool> {
        if !self.muted.contains_key(&family_id) {
            self.fetch_families(tx, &[family_id]).await?;
        }
        Ok(self.muted[&family_id].contains(kind))
    }
}

/// The reservation events a family is written about.
fn tells_family(event_type: &str) -> bool {
    matches!(
        event_type,
        "ReservationConfirmed" | "ReservationExpired" | "ReservationPaid" | "ReservationReinstated"
    )
}

/// One e-mail decided, to be written with the rest of its batch.
struct Mail {
    position: i64,
    kind: &'static str,
    family_id: Uuid,
    recipient: String,
    subject: String,
    text: String,
    html: String,
    at: DateTime<Utc>,
    unsubscribe_path: Option<String>,
}

/// The e-mails a batch decided, keyed by event position, kind and recipient: written together
/// at the batch's end, and a batch replayed after a crash records none of them twice.
#[derive(Default)]
pub(crate) struct Outbox {
    mails: Vec<Mail>,
}

impl Outbox {
    fn push(
        &mut self,
        position: i64,
        family_id: Uuid,
        recipient: &str,
        notice: &Notice,
        at: DateTime<Utc>,
    ) {
        self.mails.push(Mail {
            position,
            kind: notice.kind.code(),
            family_id,
            recipient: recipient.to_string(),
            subject: notice.subject.clone(),
            text: notice.text.clone(),
            html: notice.html.clone(),
            at,
            unsubscribe_path: notice.kind.optional().then(|| PREFERENCES_PATH.to_string()),
        });
    }

    /// The batch's one write.
    async fn write(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        if self.mails.is_empty() {
            return Ok(());
        }
        let mails = self.mails;
        sqlx::query(
            "INSERT INTO mail_outbox (event_position, kind, family_id, recipient, subject, text_body,
                                      html_body, next_attempt_at, created_at, unsubscribe_path)
             SELECT position, kind, family_id, recipient, subject, text_body, html_body, at, at,
                    unsubscribe_path
               FROM UNNEST($1::bigint[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::timestamptz[], $9::text[])
                    AS m(position, kind, family_id, recipient, subject, text_body, html_body, at,
                         unsubscribe_path)
             ON CONFLICT (event_position, kind, recipient) DO NOTHING",
        )
        .bind(mails.iter().map(|m| m.position).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.kind).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.family_id).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.text.as_str()).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.html.as_str()).collect::<Vec<_>>())
        .bind(mails.iter().map(|m| m.at).collect::<Vec<_>>())
        .bind(
            mails
                .iter()
                .map(|m| m.unsubscribe_path.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
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
    let mut lookups = Lookups::default();
    let Some(request) = lookups
        .requested(&mut tx, &reservation_id.to_string())
        .await?
    else {
        return Ok(());
    };
    let town = lookups.town(&mut tx, request.organisation_id).await?;
    let notice = notification::hold_reminder(&town, &facts_of(&request), total, pay_before);
    let mut outbox = Outbox::default();
    record_for_family(
        &mut tx,
        &mut lookups,
        &mut outbox,
        confirmed_position,
        request.family_id,
        &notice,
        now,
    )
    .await?;
    outbox.write(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
