//! Town staff set up what families book: families and their children, family accounts (see,
//! edit, disable, unlock, the password e-mail), restaurants, periods with their closures, day
//! capacities and price lists by quotient familial. One module per subject; each use case takes
//! the `Cantine`, the staff `Caller` and typed values, checks everything before it changes
//! anything (a refused edit changes nothing), and answers typed values or an `AppError` whose
//! code the API sends and the back office puts in French next to the field concerned.

pub mod capacities;
pub mod children;
pub mod closures;
pub mod demo_clock;
pub mod families;
pub mod family_accounts;
pub mod login_log;
pub mod periods;
pub mod restaurants;
pub mod staff;
pub mod tariffs;

use super::error::{AppError, AppResult};

/// The trimmed value, or `empty_field` naming the field as the API's body spells it (the back
/// office reads the name to put the refusal next to its own field).
pub(crate) fn non_empty<'a>(field: &str, value: &'a str) -> AppResult<&'a str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::rule(
            "empty_field",
            format!("`{field}` must not be empty"),
        ));
    }
    Ok(trimmed)
}

/// A restaurant's or a day's number of places.
pub(crate) fn valid_capacity(capacity: i32) -> AppResult<()> {
    if capacity < 0 {
        return Err(AppError::rule(
            "invalid_capacity",
            "capacity must be zero or more",
        ));
    }
    Ok(())
}

/// Who changed reference data, in the service's log.
fn log_change(caller: &super::Caller, what: &str, id: uuid::Uuid) {
    tracing::info!(by = %caller.user_id, id = %id, "{what}");
}
