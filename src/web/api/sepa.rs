//! SEPA direct debit for finance (`app::sepa`): the creditor's settings (ICS), families'
//! mandates, the month's pain.008.001.02 collection file, and rejected debits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use uuid::Uuid;

use crate::app::sepa::{self, CreditorInput, MandateInput, Rejected, Rejection};
use crate::app::{AppError, Cantine};
use crate::db::sepa::MandateRow;
use crate::web::error::{ApiResult, Problem};
use crate::web::extract::{ApiJson, ApiPath, Caller};

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditorBody {
    /// The name the families read on their statements (default: the organisation's).
    #[serde(default)]
    pub name: String,
    /// The SEPA creditor identifier (ICS), e.g. `FR72ZZZ123456`.
    pub creditor_id: String,
    /// The account the debits are paid into.
    pub iban: String,
    pub bic: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreditorView {
    pub name: String,
    pub creditor_id: String,
    pub iban: String,
    pub bic: String,
}

/// The organisation's SEPA creditor settings (404 `not_found` until they are set).
#[utoipa::path(get, path = "/api/v1/finance/creditor", tag = "finance",
    responses((status = 200, body = CreditorView), (status = 404, body = Problem)))]
pub async fn creditor(State(state): State<Cantine>) -> ApiResult<Json<CreditorView>> {
    let creditor = sepa::creditor(&state)
        .await?
        .ok_or_else(|| AppError::not_found("SEPA creditor settings"))?;
    Ok(Json(CreditorView {
        name: creditor.name,
        creditor_id: creditor.creditor_id,
        iban: creditor.iban.as_str().to_string(),
        bic: creditor.bic,
    }))
}

/// Sets the organisation's SEPA creditor identifier (ICS, checked by its mod-97 rule), the
/// account the debits are paid into (IBAN checked by ISO 13616) and its BIC.
#[utoipa::path(put, path = "/api/v1/finance/creditor", tag = "finance", request_body = CreditorBody,
    responses((status = 200, body = CreditorView), (status = 422, body = Problem)))]
pub async fn set_creditor(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<CreditorBody>,
) -> ApiResult<Json<CreditorView>> {
    let creditor = sepa::set_creditor(
        &state,
        &caller,
        CreditorInput {
            name: &body.name,
            creditor_id: &body.creditor_id,
            iban: &body.iban,
            bic: &body.bic,
        },
    )
    .await?;
    Ok(Json(CreditorView {
        name: creditor.name,
        creditor_id: creditor.creditor_id,
        iban: creditor.iban.as_str().to_string(),
        bic: creditor.bic,
    }))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMandate {
    pub family_id: Uuid,
    /// Spaces allowed: `FR76 3000 6000 0112 3456 7890 189`.
    pub iban: String,
    pub bic: String,
    /// The account holder, as on the signed form.
    pub holder: String,
    /// Référence unique du mandat: unique per organisation, 1 to 35 characters.
    pub rum: String,
    pub signed_on: chrono::NaiveDate,
    /// `first` (no debit made on it yet: FRST) or `recurrent` (already used: RCUR).
    #[serde(default = "first")]
    pub sequence: String,
}

fn first() -> String {
    "first".into()
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MandateView {
    pub id: Uuid,
    pub family_id: Uuid,
    pub rum: String,
    pub iban: String,
    pub bic: String,
    pub holder: String,
    pub signed_on: chrono::NaiveDate,
    /// As signed: `first` or `recurrent`.
    pub sequence: String,
    /// The sequence type of its next debit: `FRST` or `RCUR`.
    pub next_debit: String,
    pub in_force: bool,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_reason: Option<String>,
}

impl From<MandateRow> for MandateView {
    fn from(m: MandateRow) -> Self {
        let signed_as = crate::domain::sepa::SequenceType::parse(&m.sequence)
            .unwrap_or(crate::domain::sepa::SequenceType::First);
        MandateView {
            id: m.id,
            family_id: m.family_id,
            rum: m.rum,
            iban: m.iban,
            bic: m.bic,
            holder: m.holder,
            signed_on: m.signed_on,
            next_debit: crate::domain::sepa::SequenceType::next(signed_as, m.collected > 0)
                .code()
                .to_string(),
            sequence: m.sequence,
            in_force: m.revoked_at.is_none(),
            revoked_at: m.revoked_at,
            revoked_reason: m.revoked_reason,
        }
    }
}

/// Records a family's signed SEPA mandate (finance, admin): the IBAN is checked by its ISO
/// 13616 mod-97 checksum, the RUM is unique in the organisation, a family has one mandate in
/// force at a time. A `MandateSigned` event with the staff actor.
#[utoipa::path(post, path = "/api/v1/finance/mandates", tag = "finance", request_body = NewMandate,
    responses((status = 201, body = MandateView), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_mandate(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<NewMandate>,
) -> ApiResult<(StatusCode, Json<MandateView>)> {
    let signed = sepa::sign_mandate(
        &state,
        &caller,
        MandateInput {
            family_id: body.family_id,
            iban: &body.iban,
            bic: &body.bic,
            holder: &body.holder,
            rum: &body.rum,
            signed_on: body.signed_on,
            sequence: &body.sequence,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(MandateView {
            id: signed.mandate_id,
            family_id: signed.family_id,
            rum: signed.rum,
            iban: signed.iban.as_str().to_string(),
            bic: signed.bic,
            holder: signed.holder,
            signed_on: signed.signed_on,
            sequence: signed.sequence.as_str().to_string(),
            next_debit: signed.sequence.code().to_string(),
            in_force: true,
            revoked_at: None,
            revoked_reason: None,
        }),
    ))
}

/// A family's mandates, the one in force first.
#[utoipa::path(get, path = "/api/v1/finance/families/{id}/mandates", tag = "finance",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = Vec<MandateView>), (status = 404, body = Problem)))]
pub async fn family_mandates(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<MandateView>>> {
    let mandates = sepa::family_mandates(&state, id).await?;
    Ok(Json(mandates.into_iter().map(MandateView::from).collect()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub id: Uuid,
    pub revoked: bool,
}

/// Revokes a mandate (account closed, another bank, the family's wish): no further debit.
#[utoipa::path(post, path = "/api/v1/finance/mandates/{id}/revocation", tag = "finance",
    request_body = Revocation, params(("id" = Uuid, Path, description = "mandate id")),
    responses((status = 200, body = Revoked), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke_mandate(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Revocation>,
) -> ApiResult<Json<Revoked>> {
    sepa::revoke_mandate(&state, &caller, id, &body.reason).await?;
    Ok(Json(Revoked { id, revoked: true }))
}

/// The month's SEPA collection file (pain.008.001.02; `month` is `YYYY-MM`): the unpaid
/// monthly invoices of that month of the families with a mandate in force, one debit each,
/// first debits (FRST) then recurrent ones (RCUR), pre-notified today and asked for 14 days
/// later on a TARGET2 business day. Made once: asked again, it answers the same file, unless
/// new invoices became collectable (a new batch). 404 `nothing_to_collect` when there is
/// nothing; 422 `sepa_creditor_missing` before the creditor's settings are set.
#[utoipa::path(get, path = "/api/v1/finance/sepa/{month}", tag = "finance",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, content_type = "application/xml", body = String,
               description = "the pain.008.001.02 document"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn month_file(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(month): ApiPath<String>,
) -> ApiResult<Response> {
    let (message_id, xml, _) = sepa::month_file(&state, &caller, &month).await?;
    Ok(crate::web::xml_response::xml_response(&message_id, xml))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRejection {
    /// The debit's `EndToEndId` in the file (what the bank's R-transaction names)…
    #[serde(default)]
    pub end_to_end_id: Option<String>,
    /// …or the invoice it collects.
    #[serde(default)]
    pub invoice_id: Option<Uuid>,
    /// The R-transaction's ISO reason code: `AC04`, `AM04`, `MD01`, `MS02`…
    pub reason_code: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RejectionView {
    pub debit_id: Uuid,
    pub end_to_end_id: String,
    pub reason_code: String,
    /// The code in French.
    pub reason: String,
    /// The invoices due again.
    pub invoices: Vec<String>,
}

impl From<Rejection> for RejectionView {
    fn from(r: Rejection) -> Self {
        RejectionView {
            debit_id: r.debit_id,
            end_to_end_id: r.end_to_end_id,
            reason_code: r.reason_code,
            reason: r.reason.to_string(),
            invoices: r.invoice_numbers,
        }
    }
}

/// Records a rejected (or returned) debit with its R-transaction reason code: a
/// `SepaDebitRejected` event with the staff actor; its invoice is due again (debtors list,
/// reminders, ledger). Once per debit (409 `already_rejected`).
#[utoipa::path(post, path = "/api/v1/finance/sepa-rejections", tag = "finance", request_body = NewRejection,
    responses((status = 201, body = RejectionView), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<NewRejection>,
) -> ApiResult<(StatusCode, Json<RejectionView>)> {
    let which = match (&body.end_to_end_id, body.invoice_id) {
        (Some(id), None) => Rejected::EndToEndId(id),
        (None, Some(id)) => Rejected::Invoice(id),
        _ => {
            return Err(AppError::rule(
                "debit_required",
                "name the debit by end_to_end_id or by invoice_id (one of them)",
            )
            .into())
        }
    };
    let rejection = sepa::reject(&state, &caller, which, &body.reason_code, "manual").await?;
    Ok((StatusCode::CREATED, Json(rejection.into())))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RFile {
    /// The file's name, kept in the events.
    #[serde(default)]
    pub name: String,
    /// The bank's pain.002 status report or camt.054 notification, as text.
    pub xml: String,
}

/// Records every rejection of a bank's R-file (pain.002 or camt.054): each listed debit
/// (`OrgnlEndToEndId` / `EndToEndId`) with its reason code. The same file twice records
/// nothing more.
#[utoipa::path(post, path = "/api/v1/finance/sepa-rejections/file", tag = "finance", request_body = RFile,
    responses((status = 201, body = Vec<RejectionView>), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn reject_file(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<RFile>,
) -> ApiResult<(StatusCode, Json<Vec<RejectionView>>)> {
    let done = sepa::reject_file(&state, &caller, &body.name, &body.xml).await?;
    Ok((
        StatusCode::CREATED,
        Json(done.into_iter().map(RejectionView::from).collect()),
    ))
}
