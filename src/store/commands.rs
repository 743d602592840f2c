//! Runs Reservation commands against the event store: load, decide, append, with metadata on
//! every event, and a bounded retry when another command wrote to the same reservation first.

use crate::telemetry::metrics::{CommandOutcome, Metrics};
use std::collections::HashMap;
use std::sync::Arc;

use crate::store::event_repository::CantineEventRepository;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::reservation::{Reservation, ReservationCommand, ReservationError, Services};
use crate::projections::ProjectionProgress;

/// A command is decided again when its append loses a race: for the same reservation, or for
/// the last places of a day (each lost race means someone else took a place, so a day's last
/// places cannot keep a request retrying for long).
const MAX_ATTEMPTS: usize = 16;

/// Who asked and through which request, written in every event's metadata.
#[derive(Clone, Debug)]
pub struct CommandMeta {
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    pub request_id: String,
}

impl CommandMeta {
    pub fn system(request_id: impl Into<String>) -> Self {
        Self {
            actor_id: None,
            actor_role: "system".into(),
            request_id: request_id.into(),
        }
    }

    /// The metadata of events appended outside the command executor (payments, invoices).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.to_map()).expect("a map of strings")
    }

    fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        map.insert(
            "actor".into(),
            match self.actor_id {
                Some(id) => id.to_string(),
                None => "system".into(),
            },
        );
        map.insert("actor_role".into(), self.actor_role.clone());
        map.insert("request_id".into(), self.request_id.clone());
        map
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Refused(#[from] ReservationError),
    #[error("the reservation kept changing under this command")]
    Conflict,
    #[error("event store failure: {0}")]
    Store(String),
}

type Store = PersistedEventStore<CantineEventRepository, Reservation>;

/// The aggregate type, as the log and the metrics name it.
const AGGREGATE: &str = "Reservation";

pub struct ReservationCommands {
    store: Store,
    services: Services,
    progress: Arc<ProjectionProgress>,
    metrics: Metrics,
}

impl ReservationCommands {
    pub fn new(
        pool: PgPool,
        services: Services,
        progress: Arc<ProjectionProgress>,
        metrics: Metrics,
    ) -> Self {
        let repo = CantineEventRepository::new(pool);
        Self {
            store: PersistedEventStore::new_event_store(repo)
                .with_upcasters(vec![Box::new(crate::domain::upcasting::StoreUpcaster)]),
            services,
            progress,
            metrics,
        }
    }

    /// Decides and appends; answers the reservation as it stands after the command.
    pub async fn execute(
        &self,
        reservation_id: Uuid,
        command: ReservationCommand,
        meta: &CommandMeta,
    ) -> Result<Reservation, CommandError> {
        self.run(reservation_id, command, meta, Existing::MayHaveEvents)
            .await
    }

    /// [`execute`](Self::execute) for a reservation whose id the caller has just drawn at
    /// random: it has no event, so it is decided from the empty aggregate without reading the
    /// log first (a round trip per booking). Were the id ever taken, the append's unique key
    /// would refuse the event, and the command would end as a conflict, not as a second history.
    pub async fn execute_new(
        &self,
        reservation_id: Uuid,
        command: ReservationCommand,
        meta: &CommandMeta,
    ) -> Result<Reservation, CommandError> {
        self.run(reservation_id, command, meta, Existing::None)
            .await
    }

    async fn run(
        &self,
        reservation_id: Uuid,
        command: ReservationCommand,
        meta: &CommandMeta,
        existing: Existing,
    ) -> Result<Reservation, CommandError> {
        let kind = command.kind();
        let result = self
            .decide_and_append(reservation_id, command, meta, existing)
            .await;
        let outcome = match &result {
            Ok(_) => CommandOutcome::Accepted,
            Err(CommandError::Refused(refusal)) => CommandOutcome::Refused(refusal.code()),
            Err(CommandError::Conflict) => CommandOutcome::ConflictGaveUp,
            Err(CommandError::Store(_)) => CommandOutcome::Failed,
        };
        self.metrics.command(AGGREGATE, kind, outcome);
        result
    }

    async fn decide_and_append(
        &self,
        reservation_id: Uuid,
        command: ReservationCommand,
        meta: &CommandMeta,
        existing: Existing,
    ) -> Result<Reservation, CommandError> {
        let id = reservation_id.to_string();
        for attempt in 1..=MAX_ATTEMPTS {
            // A lost race leaves a new reservation without events: its append failed whole.
            let mut context = match existing {
                Existing::MayHaveEvents => {
                    self.store.load_aggregate(&id).await.map_err(store_error)?
                }
                Existing::None => EventStoreAggregateContext {
                    aggregate_id: id.clone(),
                    aggregate: Reservation::default(),
                    current_sequence: 0,
                    current_snapshot: None,
                },
            };
            let sink: EventSink<Reservation> = Default::default();
            let aggregate = context.aggregate();
            aggregate
                .handle(command.clone(), &self.services, &sink)
                .await
                .map_err(CommandError::Refused)?;
            let after = aggregate.clone();
            let events = sink.collect().await;
            match self.store.commit(events, context, meta.to_map()).await {
                Ok(_) => {
                    self.progress.record_write();
                    return Ok(after);
                }
                Err(AggregateError::AggregateConflict) => {
                    tracing::debug!(%reservation_id, attempt, "concurrent change, retrying");
                    self.metrics.command(
                        AGGREGATE,
                        command.kind(),
                        CommandOutcome::ConflictRetried,
                    );
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(CommandError::Conflict)
    }

    /// The reservation as its events say now.
    pub async fn load(&self, reservation_id: Uuid) -> Result<Reservation, CommandError> {
        let mut context = self
            .store
            .load_aggregate(&reservation_id.to_string())
            .await
            .map_err(store_error)?;
        Ok(context.aggregate().clone())
    }
}

/// Whether a command's reservation may already have events in the log.
#[derive(Clone, Copy)]
enum Existing {
    MayHaveEvents,
    None,
}

fn store_error(e: AggregateError<ReservationError>) -> CommandError {
    match e {
        AggregateError::UserError(refusal) => CommandError::Refused(refusal),
        AggregateError::AggregateConflict => CommandError::Conflict,
        other => CommandError::Store(other.to_string()),
    }
}
