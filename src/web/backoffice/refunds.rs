//! `/gestion/finances/remboursements`: the families whose credit (avoirs) is positive, each with
//! a form to record that it was paid back by bank transfer (`app::refunds`, as the API's
//! `POST /api/v1/finance/refunds`). A refusal is said in French next to the family's form and
//! records nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::refunds::{families_with_credit, refund_credit};
use crate::app::{AppError, Cantine};
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::format::{amount_field, euros};
use crate::web::pages::layout::{csrf_field, render, see_other};

pub const PATH: &str = "/gestion/finances/remboursements";

#[derive(Deserialize)]
pub struct RefundsQuery {
    /// After a refund: the amount, as typed back.
    pub rembourse: Option<String>,
    pub mois: Option<String>,
}

async fn refunds_page(
    state: &Cantine,
    caller: &Caller,
    done: Option<String>,
    refused: Option<(Uuid, String)>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, "/gestion/finances").await?;
    let families = families_with_credit(state).await?;
    let content = html! {
        p class="no-print" {
            a href="/gestion/finances" { "Synthèse du mois" } " · "
            a href="/gestion/finances/debiteurs" { "Débiteurs et encaissements" }
        }
        p class="note" {
            "L'avoir d'une famille (le solde en sa faveur) paie d'abord ses prochaines factures. "
            "Quand elle le demande, ou qu'elle quitte le service, il lui est remboursé par virement : "
            "enregistrez ici le virement fait, avec sa référence."
        }
        @if let Some(done) = &done { p class="notice" role="status" { (done) } }
        @if families.is_empty() {
            p { "Aucune famille n'a d'avoir à rembourser." }
        } @else {
            @for family in &families {
                section id={"famille-" (family.family_id)} aria-labelledby={"titre-" (family.family_id)} {
                    h2 id={"titre-" (family.family_id)} { (family.family_name) " – avoir de " (euros(family.credit)) }
                    @if let Some((id, message)) = &refused {
                        @if *id == family.family_id {
                            p class="alert" role="alert" { (message) " Rien n'a été enregistré." }
                        }
                    }
                    form method="post" action={(PATH) "#famille-" (family.family_id)} class="filters" {
                        (csrf_field(&context.csrf))
                        input type="hidden" name="famille" value=(family.family_id);
                        p {
                            label for={"montant-" (family.family_id)} { "Montant remboursé (€)" }
                            input id={"montant-" (family.family_id)} name="montant" inputmode="decimal"
                                value=(amount_field(family.credit));
                        }
                        p {
                            label for={"reference-" (family.family_id)} { "Référence du virement" }
                            input id={"reference-" (family.family_id)} name="reference";
                        }
                        p { button type="submit" class="primary" { "Enregistrer le remboursement de " (family.family_name) } }
                    }
                }
            }
        }
    };
    Ok(render(
        status,
        page("Remboursements d'avoirs", Some(&context.nav()), content),
    ))
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RefundsQuery>,
) -> StaffResult<Response> {
    let done = query
        .rembourse
        .filter(|a| a.len() < 20 && a.chars().all(|c| c.is_ascii_digit() || c == ','))
        .map(|a| format!("Remboursement de {a} € enregistré."));
    refunds_page(&state, &caller, done, None, StatusCode::OK).await
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub async fn record(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let family_id: Uuid = field(&fields, "famille")
        .parse()
        .map_err(|_| AppError::bad_input("malformed_body", "famille: not an id"))?;
    let amount = field(&fields, "montant")
        .trim()
        .replace(',', ".")
        .parse::<Decimal>()
        .unwrap_or(Decimal::ZERO);
    match refund_credit(
        &state,
        &caller,
        family_id,
        amount,
        field(&fields, "reference"),
    )
    .await
    {
        Ok(refund) => Ok(see_other(&format!(
            "{PATH}?rembourse={}#contenu",
            amount_field(refund.amount)
        ))),
        Err(e) => {
            let message = match e.code() {
                "invalid_amount" => "Le montant est un nombre d'euros positif (par exemple 5,06).",
                "amount_exceeds_credit" => "Le montant dépasse l'avoir de la famille.",
                "reference_required" => "Indiquez la référence du virement.",
                _ => return Err(e.into()),
            };
            refunds_page(
                &state,
                &caller,
                None,
                Some((family_id, message.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
