//! The built-in payment simulator's page, standing in for a provider's card form: it exists
//! only when the simulator is the provider, and its answer goes back in through the same door
//! as a real provider's notification (signed, verified by the port, then settled).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::payment_provider::SIGNATURE_HEADER;
use crate::app::payments;
use crate::app::Cantine;
use crate::domain::payment::PaymentStatus;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{request_id_of, ApiForm, ApiPath};
use crate::web::pages::format::{euros, payment_state};
use crate::web::pages::layout::{page, render};
use crate::web::pages::session::{csrf_token, csrf_valid};

/// The simulator's card form, in the portal's frame (without its menu: the provider's page is
/// not the portal), the payment's state in French words.
pub async fn checkout_page(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let payment = payments::simulated(&state, id).await?;
    let status = payment.status();
    let pending = status == PaymentStatus::Pending;
    let content = html! {
        p class="note" { "Ce service de démonstration tient lieu de la page de paiement de la banque : aucune carte n'est demandée." }
        dl class="summary" {
            dt { "Montant" } dd { strong { (euros(payment.amount)) } }
            dt { "État" } dd { (payment_state(status)) }
        }
        @if pending {
            form method="post" class="actions" {
                input type="hidden" name="jeton" value=(checkout_token(&state, id));
                button type="submit" name="outcome" value="succeeded" class="primary" { "Payer" } " "
                button type="submit" name="outcome" value="failed" { "Refuser le paiement" }
            }
        }
        p { a href={"/paiements/" (id)} { "Retour au portail famille" } }
    };
    Ok(render(
        StatusCode::OK,
        page("Paiement simulé", None, content),
    ))
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
) -> ApiResult<Response> {
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
    let accepted = result.status == PaymentStatus::Succeeded;
    let content = html! {
        p role="status" class="info" {
            @if accepted { "La banque a accepté le paiement." } @else { "La banque a refusé le paiement : aucun montant n'a été débité." }
        }
        p class="actions" { a class="button primary" href={"/paiements/" (id)} { "Retour au portail famille" } }
    };
    Ok(render(
        StatusCode::OK,
        page(
            if accepted {
                "Paiement accepté"
            } else {
                "Paiement refusé"
            },
            None,
            content,
        ),
    ))
}
