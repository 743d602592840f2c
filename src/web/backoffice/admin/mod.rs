//! The administrators' pages of the back office: families and their children, restaurants,
//! periods with their closures, capacities and prices. Every change goes through the API's own
//! admin handlers (`api::admin`, `api::staff_accounts`, `api::closures`, `api::tariffs`), called
//! as functions: a page refuses exactly what the API refuses, and its refusal is the API's,
//! put in French next to the field it concerns, with the form filled in again.

pub mod children;
pub mod families;
pub mod family;
pub mod form;
pub mod new_period;
pub mod periods;
pub mod prices;
pub mod restaurants;
