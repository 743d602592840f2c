//! Which staff roles each side of the service opens to, the same lists for the API's routes and
//! the back office's pages. A module of its own so that the back office's navigation and the
//! route table read them without depending on the guard (`access.rs`).

use crate::domain::account::Role;

/// Who may use the kitchens' routes, in the API and in the back office alike.
pub const KITCHEN_ROLES: &[Role] = &[Role::Kitchen, Role::Admin];
/// Who may use the finance office's routes, in the API and in the back office alike.
pub const FINANCE_ROLES: &[Role] = &[Role::Finance];
pub const ADMIN_ROLES: &[Role] = &[Role::Admin];
/// Who acts for a family (its file, booking and cancelling for it): the front desk and admins.
pub const FRONT_DESK_ROLES: &[Role] = &[Role::Admin, Role::Desk];
/// Every staff role: the back office's home and logout.
pub const STAFF_ROLES: &[Role] = &[
    Role::Admin,
    Role::Kitchen,
    Role::Finance,
    Role::Auditor,
    Role::Desk,
];
