//! The domain decides and emits events. It knows no HTTP and no SQL: only the services it is
//! handed (see `reservation::services`).

pub mod account;
pub mod calendar_status;
pub mod clock;
pub mod family_contact;
pub mod holidays;
pub mod invoice;
pub mod iso_date;
pub mod meal_option;
pub mod money;
pub mod month_billing;
pub mod notification;
pub mod payment;
pub mod period;
pub mod reservation;
pub mod selection;
pub mod sepa;
pub mod tariff;
pub mod upcasting;
pub mod waitlist;
