//! The built-in payment simulator's page, standing in for a provider's card form: it exists
//! only when the simulator is the provider, and its answer goes back in through the same door
//! as a real provider's notification (signed, verified by the port, then settled).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::payment_provider::SIGNATURE_HEADER;
use crate::app::payments;
use crate::app::Cantine;
use crate::domain::payment::PaymentStatus;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{request_id_of, ApiForm, ApiPath};
use crate::web::pages::format::euros;
use crate::web::pages::session::{csrf_token, csrf_valid};

pub async fn checkout_page(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Html<String>> {
    let payment = payments::simulated(&state, id).await?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement simulé</title></head>
<body><main><h1>Paiement simulé</h1><p>Montant : {}</p><p>État : {}</p>
<form method=\"post\"><input type=\"hidden\" name=\"jeton\" value=\"{}\"><button name=\"outcome\" value=\"succeeded\">Payer</button>
<button name=\"outcome\" value=\"failed\">Refuser le paiement</button></form></main></body></html>",
        euros(payment.amount),
        payment.status,
        checkout_token(&state, id)
    )))
}

/// The form's token: bound to the payment with the service's own key, so that another site
/// cannot post the payer's choice for them.
fn checkout_token(state: &Cantine, id: Uuid) -> String {
    csrf_token(state, format!("checkout:{id}").as_bytes())
}

#[derive(Deserialize)]
pub struct CheckoutChoice {
    pub outcome: String,
    #[serde(default)]
    pub jeton: String,
}

/// The simulator signs its notification and hands it in through the same door as a real
/// provider's: verified by the port, then settled.
pub async fn checkout_submit(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiForm(choice): ApiForm<CheckoutChoice>,
) -> ApiResult<impl IntoResponse> {
    // The payment first (404 when there is none, or no simulator), then the form's token.
    payments::simulated(&state, id).await?;
    if !csrf_valid(&state, format!("checkout:{id}").as_bytes(), &choice.jeton) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "invalid_csrf",
            "the form's token is missing or wrong: reload the payment page",
        ));
    }
    let (body, signature) = payments::simulate(&state, id, choice.outcome).await?;
    let mut signed = HeaderMap::new();
    signed.insert(
        SIGNATURE_HEADER,
        signature.parse().map_err(ApiError::internal)?,
    );
    let verified = state.payment_provider.verify(&signed, &body);
    let result = payments::receive(&state, id, verified, &request_id_of(&headers)).await?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement</title></head>
<body><main><h1>{}</h1><p><a href=\"/paiements/{id}\">Retour au portail famille</a></p></main></body></html>",
        if result.status == PaymentStatus::Succeeded { "Paiement accepté" } else { "Paiement refusé" }
    )))
}
