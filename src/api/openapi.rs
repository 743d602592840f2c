//! The OpenAPI document of the contract, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cantine", description = "School-canteen booking service (portail famille)"),
    paths(
        super::health,
        super::auth::login,
        super::auth::logout,
        super::password::request_email,
        super::password::set_with_link,
        super::account::change_password,
        super::account::change_login,
        super::staff_accounts::show,
        super::staff_accounts::edit,
        super::staff_accounts::disable,
        super::staff_accounts::enable,
        super::staff_accounts::unlock,
        super::staff_accounts::send_password_email,
        super::staff_accounts::login_log,
        super::admin::create_restaurant,
        super::admin::create_period,
        super::admin::create_family,
        super::admin::create_child,
        super::admin::advance_clock,
        super::admin::set_capacity,
        super::closures::replace,
        super::tariffs::create,
        super::tariffs::list,
        super::tariffs::set_quotient,
        super::family::family,
        super::family::establishments,
        super::family::calendar,
        super::reservations::create,
        super::reservations::confirm,
        super::reservations::cancel,
        super::reservations::list,
        super::reservations::detail,
        super::payments::cart,
        super::payments::create,
        super::payments::notify,
        super::payments::invoices,
        super::kitchen::headcounts,
        super::finance::invoices,
        super::audit::events,
        super::operations::projections,
        document,
    ),
    components(schemas(super::error::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
