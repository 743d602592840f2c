//! The OpenAPI document of the contract, generated from the handlers' annotations.

use axum::http::Method;
use axum::Json;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::Required;
use utoipa::{Modify, OpenApi};

use super::openapi_errors::ErrorResponses;
use crate::web::idempotency;

#[derive(OpenApi)]
#[openapi(
    info(title = "Cantine", description = "School-canteen booking service (portail famille)"),
    paths(
        crate::web::health,
        crate::web::observability::ready,
        crate::web::observability::metrics_with_token,
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
        super::staff_accounts::unlock_staff,
        super::staff_accounts::send_password_email,
        super::staff_accounts::login_log,
        super::admin::create_restaurant,
        super::admin::create_period,
        super::admin::create_family,
        super::admin::create_child,
        super::admin::edit_restaurant,
        super::admin::edit_child,
        super::admin::advance_clock,
        super::admin::set_capacity,
        super::on_behalf::book,
        super::on_behalf::cancel,
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
        super::waitlist::join,
        super::waitlist::list,
        super::waitlist::leave,
        super::payments::cart,
        super::payments::create,
        super::payments::notify,
        super::payments::invoices,
        super::payments::show,
        super::ledger::ledger,
        super::month_end::export,
        super::month_end::reconciliation,
        super::kitchen::headcounts,
        super::roll_call::roll_call,
        super::finance::invoices,
        super::finance::record_payment,
        super::finance::reverse_payment,
        super::finance::debtors,
        super::finance::refund,
        super::sepa::creditor,
        super::sepa::set_creditor,
        super::sepa::sign_mandate,
        super::sepa::family_mandates,
        super::sepa::revoke_mandate,
        super::sepa::month_file,
        super::sepa::reject,
        super::sepa::reject_file,
        super::audit::events,
        super::operations::projections,
        super::operations::mail,
        super::documents::list,
        super::documents::download,
        super::documents::withdraw,
        document,
    ),
    components(schemas(crate::web::error::Problem)),
    modifiers(&BearerAuth, &IdempotencyKeyHeader, &ErrorResponses),
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

/// The optional `Idempotency-Key` header of every POST route that takes one (`idempotency.rs`).
struct IdempotencyKeyHeader;

impl Modify for IdempotencyKeyHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(post) = item.post.as_mut() else {
                continue;
            };
            if idempotency::applies_to(&Method::POST, path) {
                post.parameters
                    .get_or_insert_with(Vec::new)
                    .push(idempotency_key_parameter());
            }
        }
    }
}

fn idempotency_key_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The same request repeated with the same key (same caller, within 24 hours) gets the \
             first answer again, with `Idempotent-Replayed: true`, and does nothing else. \
             1 to 255 visible ASCII characters.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7E]+$")),
        ))
        .build()
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
