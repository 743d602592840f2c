//! One error type for every route: RFC 9457 problem details with a stable `code`. Internal
//! failures are logged with their cause and answered without it.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;

use crate::app::{AppError, Refusal};
use crate::domain::reservation::{ErrorKind, ReservationError};
use crate::store::commands::CommandError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub days: Option<Vec<NaiveDate>>,
    pub outcomes: Option<Vec<Outcome>>,
    /// Seconds to wait, sent as `Retry-After` (429, and 409 while an idempotent request runs).
    pub retry_after: Option<i64>,
}

/// A refused day with its reason, in a refusal about several reasons.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub date: NaiveDate,
    pub outcome: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<NaiveDate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<Outcome>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            days: None,
            outcomes: None,
            retry_after: None,
        }
    }

    /// 429: attempts come faster than allowed; the caller may retry after `seconds`.
    pub fn too_many_attempts(seconds: i64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many attempts: try again in {seconds} s"),
            )
        }
    }

    /// 413: over the API's body limit (`api::BODY_LIMIT`).
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        )
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn rule(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this route is not open to your role",
        )
    }

    /// Logs the cause and hides it from the caller.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://cantine.example/problems/{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail,
            days: self.days,
            outcomes: self.outcomes,
        };
        let mut response = (self.status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ReservationError> for ApiError {
    fn from(e: ReservationError) -> Self {
        let status = match e.kind() {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Rule => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Internal => return ApiError::internal(e),
        };
        ApiError {
            status,
            code: e.code(),
            detail: e.to_string(),
            days: e.days(),
            outcomes: e.refused().map(|refused| {
                refused
                    .iter()
                    .map(|r| Outcome {
                        date: r.date,
                        outcome: r.reason.outcome(),
                    })
                    .collect()
            }),
            retry_after: None,
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Refused(refusal) => refusal.into(),
            CommandError::Conflict => ApiError::conflict(
                "concurrent_change",
                "the reservation was changed by another request; try again",
            ),
            CommandError::Store(cause) => ApiError::internal(cause),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Refused {
                refusal,
                code,
                detail,
            } => {
                let status = match refusal {
                    Refusal::BadInput => StatusCode::BAD_REQUEST,
                    Refusal::Unauthenticated => StatusCode::UNAUTHORIZED,
                    Refusal::Forbidden => StatusCode::FORBIDDEN,
                    Refusal::NotFound => StatusCode::NOT_FOUND,
                    Refusal::Conflict => StatusCode::CONFLICT,
                    Refusal::Rule => StatusCode::UNPROCESSABLE_ENTITY,
                    Refusal::Locked => StatusCode::LOCKED,
                    Refusal::TooManyAttempts {
                        retry_after_seconds,
                    } => {
                        return ApiError {
                            retry_after: Some(retry_after_seconds),
                            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, detail)
                        }
                    }
                    Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                };
                ApiError::new(status, code, detail)
            }
            AppError::Reservation(refusal) => refusal.into(),
            AppError::ConcurrentChange => CommandError::Conflict.into(),
            AppError::Internal(cause) => ApiError::internal(format!("{cause:#}")),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        crate::app::AppError::from(e).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(format!("{e:#}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        if let JsonRejection::MissingJsonContentType(_) = rejection {
            return ApiError::bad_request("malformed_body", "send the body as application/json");
        }
        ApiError::bad_request("malformed_body", rejection.body_text())
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        ApiError::bad_request("malformed_body", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("invalid_parameter", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_parameter", rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
