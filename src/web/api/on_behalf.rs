//! The town's staff book and cancel for a family (at the desk, on the phone): the family's own
//! use cases, with the same rules and refusals, and the staff member as the events' actor.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::reservations::{Cancellation, NewReservation, RequestedReservation};
use crate::app::{reservations, Cantine};
use crate::domain::reservation::LateReason;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, ApiPath, Caller};

#[derive(Serialize, ToSchema)]
pub struct BookedOnBehalf {
    #[serde(flatten)]
    pub reservation: RequestedReservation,
    /// Prepaid period: the family pays before then, or the days go back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_before: Option<DateTime<Utc>>,
}

/// Books the family's child's days and confirms them at once: `awaiting_payment` on a prepaid
/// period (the family pays online or at the desk), `confirmed` on a billed-later one.
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/reservations", tag = "admin",
    params(("id" = Uuid, Path, description = "the family")), request_body = NewReservation,
    responses((status = 201, body = BookedOnBehalf), (status = 409, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn book(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewReservation>,
) -> ApiResult<(StatusCode, Json<BookedOnBehalf>)> {
    let (days, partial) = body.requested_days()?;
    let (requested, confirmed) = reservations::request_on_behalf(
        &state,
        &caller,
        family_id,
        body.child_id,
        body.period_id,
        days,
        partial,
    )
    .await?;
    let mut reservation = RequestedReservation::from(requested);
    reservation.status = confirmed.status.as_str();
    // Confirmed: the hold of an unconfirmed request no longer applies.
    reservation.confirm_before = None;
    Ok((
        StatusCode::CREATED,
        Json(BookedOnBehalf {
            reservation,
            pay_before: confirmed.pay_before,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOnBehalf {
    /// The days to cancel; without it, every day still booked.
    pub days: Option<Vec<NaiveDate>>,
    /// Needed for days past the family's cut-off: `medical_certificate`, `strike`,
    /// `school_outing` or `closure`. It decides what the family gets back for them.
    pub reason: Option<String>,
}

/// Cancels days of a family's reservation; past the family's cut-off, only with a reason.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{id}/cancel", tag = "admin",
    params(("id" = Uuid, Path)), request_body(content = CancelOnBehalf, description = "optional"),
    responses((status = 200, body = Cancellation), (status = 409, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn cancel(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> ApiResult<Json<Cancellation>> {
    // The body is optional, as the family's: an empty one cancels everything.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        CancelOnBehalf {
            days: None,
            reason: None,
        }
    } else {
        serde_json::from_slice::<CancelOnBehalf>(&body)
            .map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?
    };
    let reason = body
        .reason
        .as_deref()
        .map(|text| {
            LateReason::parse(text).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_reason",
                    "reason is one of medical_certificate, strike, school_outing, closure",
                )
            })
        })
        .transpose()?;
    let cancelled = reservations::cancel_on_behalf(&state, &caller, id, body.days, reason).await?;
    Ok(Json(cancelled.into()))
}
