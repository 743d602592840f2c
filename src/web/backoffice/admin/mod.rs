//! The administrators' pages of the back office: families and their children, restaurants,
//! periods with their closures, capacities and prices. Every change is a use case of
//! `app::administration`, the same the API's admin handlers call: a page refuses exactly what
//! the API refuses, with the same refusal, put in French next to the field it concerns, with
//! the form filled in again.

pub mod children;
pub mod families;
pub mod family;
pub mod family_file;
pub mod form;
pub mod new_period;
pub mod period_rules;
pub mod periods;
pub mod prices;
pub mod restaurants;
pub mod staff;
pub mod town;
