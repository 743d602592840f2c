//! One error for every use case: a refusal the caller can act on (with a stable code), a
//! reservation rule's refusal, a lost race, or an internal failure whose cause is logged by
//! whoever answers. The web turns it into problem+json (`web::error::ApiError`) or a French page.

use crate::domain::reservation::ReservationError;
use crate::store::commands::CommandError;

/// What kind of refusal, so that each front end can answer in its own terms (HTTP status, page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The input is malformed or out of range (400).
    BadInput,
    /// No session, or a wrong password (401).
    Unauthenticated,
    /// Not this caller's to do (403).
    Forbidden,
    /// Absent, or not the caller's (404: never reveals another family's data).
    NotFound,
    /// The state forbids it now (409).
    Conflict,
    /// Well-formed but against a rule (422).
    Rule,
    /// The account is locked (423).
    Locked,
    /// Too fast: retry after this many seconds (429).
    TooManyAttempts { retry_after_seconds: i64 },
    /// Too large (413).
    TooLarge,
    /// A dependency does not answer (503).
    Unavailable,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    Refused {
        refusal: Refusal,
        code: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Reservation(#[from] ReservationError),
    #[error("the reservation was changed by another request; try again")]
    ConcurrentChange,
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn refused(refusal: Refusal, code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Refused {
            refusal,
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_input(code: &'static str, detail: impl Into<String>) -> Self {
        Self::refused(Refusal::BadInput, code, detail)
    }

    pub fn rule(code: &'static str, detail: impl Into<String>) -> Self {
        Self::refused(Refusal::Rule, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::refused(Refusal::Conflict, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::refused(Refusal::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn forbidden() -> Self {
        Self::refused(
            Refusal::Forbidden,
            "forbidden",
            "this route is not open to your role",
        )
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{cause}"))
    }

    /// The stable code callers branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Refused { code, .. } => code,
            AppError::Reservation(e) => e.code(),
            AppError::ConcurrentChange => "concurrent_change",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<CommandError> for AppError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Refused(refusal) => AppError::Reservation(refusal),
            CommandError::Conflict => AppError::ConcurrentChange,
            CommandError::Store(cause) => AppError::internal(cause),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // Text the database cannot store is the caller's to fix, not a failure of ours (the
        // edge refuses control characters first; this is the net behind it).
        if let sqlx::Error::Database(db) = &e {
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return AppError::bad_input("invalid_text", "the text cannot be stored");
            }
        }
        AppError::Internal(e.into())
    }
}
