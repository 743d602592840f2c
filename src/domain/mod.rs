//! The domain decides and emits events. It knows no HTTP and no SQL: only the services it is
//! handed (see `reservation::services`).

pub mod account;
pub mod calendar_status;
pub mod clock;
pub mod holidays;
pub mod invoice;
pub mod meal_option;
pub mod money;
pub mod payment;
pub mod period;
pub mod reservation;
pub mod selection;
pub mod tariff;
pub mod upcasting;
