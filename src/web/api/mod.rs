//! The JSON API: thin handlers that turn requests into the application's use cases and their
//! answers into JSON, with the DTOs of the HTTP contract (`shared/docs/api.md`).

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod closures;
pub mod documents;
pub mod family;
pub mod finance;
pub mod kitchen;
pub mod ledger;
pub mod money;
pub mod month_end;
pub mod on_behalf;
pub mod openapi;
pub mod openapi_errors;
pub mod operations;
pub mod password;
pub mod payments;
pub mod reservations;
pub mod roll_call;
pub mod sepa;
pub mod staff_accounts;
pub mod tariffs;
pub mod waitlist;
