//! SEPA direct debit's use cases (`domain::sepa`): the creditor's settings, a family's
//! mandates, the month's collection batch and its pain.008 file, and rejected debits. Finance
//! does all of it (mandates also the administrators, who receive the signed forms); the family
//! reads its own mandate on "Mon compte".

use chrono::NaiveDate;
use uuid::Uuid;

use crate::app::queries::finance::Month;
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::sepa::{BatchRow, DebitRow, MandateRow};
use crate::domain::sepa::{
    self, check_bic, check_creditor_id, Creditor, CreditorSet, Iban, MandateSigned, SepaIdError,
    SequenceType,
};
use crate::store;
use crate::store::sepa::{DebitSelector, MandateRefused, RejectionRefused, RevocationRefused};

fn id_refusal(e: SepaIdError) -> AppError {
    let code = match e {
        SepaIdError::IbanFormat | SepaIdError::IbanLength { .. } => "invalid_iban",
        SepaIdError::IbanChecksum => "iban_checksum",
        SepaIdError::Bic => "invalid_bic",
        SepaIdError::CreditorIdFormat | SepaIdError::CreditorIdChecksum => "invalid_creditor_id",
    };
    AppError::rule(code, e.to_string())
}

/// The organisation's creditor settings, when set.
pub async fn creditor(cantine: &Cantine) -> AppResult<Option<Creditor>> {
    let Some(row) = db::sepa::creditor(&cantine.pool, cantine.organisation.id).await? else {
        return Ok(None);
    };
    let (Some(creditor_id), Some(iban), Some(bic)) =
        (row.sepa_creditor_id, row.sepa_iban, row.sepa_bic)
    else {
        return Ok(None);
    };
    Ok(Some(Creditor {
        name: row
            .sepa_creditor_name
            .unwrap_or_else(|| cantine.organisation.name.clone()),
        creditor_id,
        iban: Iban::parse(&iban).map_err(AppError::internal)?,
        bic,
    }))
}

/// What finance types as the creditor's settings.
pub struct CreditorInput<'a> {
    pub name: &'a str,
    pub creditor_id: &'a str,
    pub iban: &'a str,
    pub bic: &'a str,
}

/// Sets the organisation's SEPA creditor identifier (ICS) and account; each is checked.
pub async fn set_creditor(
    cantine: &Cantine,
    caller: &Caller,
    input: CreditorInput<'_>,
) -> AppResult<Creditor> {
    let creditor_id = check_creditor_id(input.creditor_id).map_err(id_refusal)?;
    let iban = Iban::parse(input.iban).map_err(id_refusal)?;
    let bic = check_bic(input.bic).map_err(id_refusal)?;
    let name = match input.name.trim() {
        "" => cantine.organisation.name.clone(),
        name if name.chars().count() > 70 => {
            return Err(AppError::rule(
                "invalid_name",
                "the name has 70 characters at most",
            ))
        }
        name => name.to_string(),
    };
    let set = CreditorSet {
        organisation_id: cantine.organisation.id,
        name: name.clone(),
        creditor_id: creditor_id.clone(),
        iban: iban.clone(),
        bic: bic.clone(),
    };
    store::sepa::set_creditor(&cantine.pool, &set, &caller.meta()).await?;
    tracing::info!(%creditor_id, "SEPA creditor settings set");
    Ok(Creditor {
        name,
        creditor_id,
        iban,
        bic,
    })
}

/// A mandate as finance types it from the signed form.
pub struct MandateInput<'a> {
    pub family_id: Uuid,
    pub iban: &'a str,
    pub bic: &'a str,
    pub holder: &'a str,
    pub rum: &'a str,
    pub signed_on: NaiveDate,
    pub sequence: &'a str,
}

/// Records a family's signed mandate. Everything is checked before anything is written.
pub async fn sign_mandate(
    cantine: &Cantine,
    caller: &Caller,
    input: MandateInput<'_>,
) -> AppResult<MandateSigned> {
    let iban = Iban::parse(input.iban).map_err(id_refusal)?;
    let bic = check_bic(input.bic).map_err(id_refusal)?;
    let holder = input.holder.trim();
    if holder.is_empty() || holder.chars().count() > 70 {
        return Err(AppError::rule(
            "invalid_holder",
            "the account holder's name is required, 70 characters at most",
        ));
    }
    let rum = input.rum.trim();
    if rum.is_empty()
        || rum.len() > 35
        || !rum
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c))
    {
        return Err(AppError::rule(
            "invalid_rum",
            "the mandate reference (RUM) has 1 to 35 letters, digits or / - ? : ( ) . , ' +",
        ));
    }
    let sequence = SequenceType::parse(input.sequence)
        .ok_or_else(|| AppError::rule("invalid_sequence", "the sequence is first or recurrent"))?;
    if input.signed_on > cantine.clock.paris_today() {
        return Err(AppError::rule(
            "signed_in_future",
            "a mandate cannot be signed after today",
        ));
    }
    if !db::reference::family_exists(&cantine.pool, cantine.organisation.id, input.family_id)
        .await?
    {
        return Err(AppError::not_found("family"));
    }
    let signed = MandateSigned {
        mandate_id: Uuid::now_v7(),
        organisation_id: cantine.organisation.id,
        family_id: input.family_id,
        rum: rum.to_string(),
        iban,
        bic,
        holder: holder.to_string(),
        signed_on: input.signed_on,
        sequence,
    };
    match store::sepa::sign_mandate(&cantine.pool, &signed, cantine.clock.now(), &caller.meta())
        .await?
    {
        Ok(()) => Ok(signed),
        Err(MandateRefused::RumTaken) => Err(AppError::conflict(
            "rum_taken",
            format!("the mandate reference {rum} is already used"),
        )),
        Err(MandateRefused::InForce) => Err(AppError::conflict(
            "mandate_in_force",
            "this family already has a mandate in force: revoke it first",
        )),
    }
}

/// Revokes a mandate; the family's next invoices are no longer debited.
pub async fn revoke_mandate(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    reason: &str,
) -> AppResult<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::rule(
            "reason_required",
            "say why the mandate is revoked",
        ));
    }
    match store::sepa::revoke_mandate(
        &cantine.pool,
        cantine.organisation.id,
        id,
        reason,
        cantine.clock.now(),
        &caller.meta(),
    )
    .await?
    {
        Ok(_) => Ok(()),
        Err(RevocationRefused::NotFound) => Err(AppError::not_found("mandate")),
        Err(RevocationRefused::AlreadyRevoked) => Err(AppError::conflict(
            "already_revoked",
            "this mandate was already revoked",
        )),
    }
}

/// The mandates (one family's with `family_id`), those in force first.
pub async fn mandates(cantine: &Cantine, family_id: Option<Uuid>) -> AppResult<Vec<MandateRow>> {
    Ok(db::sepa::mandates(&cantine.pool, cantine.organisation.id, family_id).await?)
}

/// One family's mandates (404 for a family that is not the organisation's).
pub async fn family_mandates(cantine: &Cantine, family_id: Uuid) -> AppResult<Vec<MandateRow>> {
    if !db::reference::family_exists(&cantine.pool, cantine.organisation.id, family_id).await? {
        return Err(AppError::not_found("family"));
    }
    mandates(cantine, Some(family_id)).await
}

/// The family's own mandates and debits, for "Mon compte".
pub async fn own(
    cantine: &Cantine,
    caller: &Caller,
) -> AppResult<(Vec<MandateRow>, Vec<DebitRow>)> {
    let family = caller.family()?;
    let mandates = db::sepa::mandates(&cantine.pool, cantine.organisation.id, Some(family)).await?;
    let debits =
        db::sepa::debits(&cantine.pool, cantine.organisation.id, None, Some(family)).await?;
    Ok((mandates, debits))
}

/// The month's collection file: a new batch of what is collectable now (unpaid monthly
/// invoices of the month, of families with a mandate in force, never presented), else the
/// month's latest batch again, byte for byte. Answers the message id, the file, and whether
/// it was made now.
pub async fn month_file(
    cantine: &Cantine,
    caller: &Caller,
    month: &str,
) -> AppResult<(String, String, bool)> {
    let month = Month::parse(month)?;
    let creditor = creditor(cantine).await?.ok_or_else(|| {
        AppError::rule(
            "sepa_creditor_missing",
            "set the organisation's SEPA creditor identifier (ICS) and account first",
        )
    })?;
    cantine.fresh(crate::projections::invoices::NAME).await;
    if let Some(prepared) = store::sepa::prepare_batch(
        &cantine.pool,
        cantine.organisation.id,
        &creditor,
        month.text(),
        cantine.clock.now(),
        &caller.meta(),
    )
    .await?
    {
        tracing::info!(batch = %prepared.batch.message_id, debits = prepared.batch.transactions,
            total = %prepared.batch.control_sum, collection = %prepared.batch.collection_date,
            "SEPA collection batch prepared");
        return Ok((prepared.batch.message_id, prepared.xml, true));
    }
    match db::sepa::batch_file(&cantine.pool, cantine.organisation.id, month.text(), None).await? {
        Some((message_id, xml)) => Ok((message_id, xml, false)),
        None => Err(AppError::refused(
            crate::app::Refusal::NotFound,
            "nothing_to_collect",
            format!(
                "no monthly invoice of {} is left to collect from a family with a mandate",
                month.text()
            ),
        )),
    }
}

/// One batch's file, as written.
pub async fn batch_file(cantine: &Cantine, month: &str, id: Uuid) -> AppResult<(String, String)> {
    let month = Month::parse(month)?;
    db::sepa::batch_file(
        &cantine.pool,
        cantine.organisation.id,
        month.text(),
        Some(id),
    )
    .await?
    .ok_or_else(|| AppError::not_found("batch"))
}

/// The month's batches and their debits.
pub async fn month_batches(
    cantine: &Cantine,
    month: &Month,
) -> AppResult<(Vec<BatchRow>, Vec<DebitRow>)> {
    let batches = db::sepa::batches(&cantine.pool, cantine.organisation.id, month.text()).await?;
    let debits = db::sepa::debits(
        &cantine.pool,
        cantine.organisation.id,
        Some(month.text()),
        None,
    )
    .await?;
    Ok((batches, debits))
}

/// Which debit is rejected: by the file's end-to-end id, or by the invoice it collects.
pub enum Rejected<'a> {
    EndToEndId(&'a str),
    Invoice(Uuid),
}

/// A rejected debit as recorded.
pub struct Rejection {
    pub debit_id: Uuid,
    pub end_to_end_id: String,
    pub reason_code: String,
    pub reason: &'static str,
    pub invoice_numbers: Vec<String>,
}

/// Records a debit the family's bank rejected or returned, with the R-transaction's reason
/// code: its invoices are due again (debtors, reminders, the ledger).
pub async fn reject(
    cantine: &Cantine,
    caller: &Caller,
    which: Rejected<'_>,
    reason_code: &str,
    source: &str,
) -> AppResult<Rejection> {
    let code = reason_code.trim().to_ascii_uppercase();
    let reason = sepa::reason_label(&code).ok_or_else(|| {
        AppError::rule(
            "invalid_reason_code",
            format!(
                "the reason is an R-transaction code: {}",
                sepa::REASON_CODES
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let selector = match which {
        Rejected::EndToEndId(id) => DebitSelector::EndToEndId(id.trim().to_string()),
        Rejected::Invoice(id) => DebitSelector::Invoice(id),
    };
    match store::sepa::reject_debit(
        &cantine.pool,
        cantine.organisation.id,
        &selector,
        &code,
        reason,
        source,
        cantine.clock.now(),
        &caller.meta(),
    )
    .await?
    {
        Ok(rejected) => {
            tracing::warn!(debit = %rejected.payment_id, reference = %rejected.end_to_end_id,
                code = %rejected.reason_code, "SEPA debit rejected: its invoices are due again");
            Ok(Rejection {
                debit_id: rejected.payment_id,
                end_to_end_id: rejected.end_to_end_id,
                reason_code: rejected.reason_code,
                reason,
                invoice_numbers: rejected
                    .invoices
                    .into_iter()
                    .map(|i| i.invoice_number)
                    .collect(),
            })
        }
        Err(RejectionRefused::NotFound) => Err(AppError::not_found("debit")),
        Err(RejectionRefused::AlreadyRejected) => Err(AppError::conflict(
            "already_rejected",
            "this debit's rejection is already recorded",
        )),
    }
}

/// Records every rejection an R-file (pain.002 or camt.054) lists. The file is checked whole
/// first: unreadable, empty or an unknown code refuses it all; an unknown debit stops it there
/// (sending the file again records the rest: what is already recorded is skipped).
pub async fn reject_file(
    cantine: &Cantine,
    caller: &Caller,
    name: &str,
    xml: &str,
) -> AppResult<Vec<Rejection>> {
    let listed = sepa::r_transactions(xml).ok_or_else(|| {
        AppError::rule(
            "invalid_r_file",
            "the file is neither a pain.002 status report nor a camt.054 notification",
        )
    })?;
    if listed.is_empty() {
        return Err(AppError::rule(
            "invalid_r_file",
            "the file lists no rejected debit with its reason code",
        ));
    }
    if let Some((_, code)) = listed.iter().find(|(_, c)| sepa::reason_label(c).is_none()) {
        return Err(AppError::rule(
            "invalid_reason_code",
            format!("the file gives an unknown reason code {code}"),
        ));
    }
    let source = format!("R-file {}", name.chars().take(80).collect::<String>());
    let mut done = Vec::new();
    for (id, code) in &listed {
        match reject(cantine, caller, Rejected::EndToEndId(id), code, &source).await {
            Ok(r) => done.push(r),
            // The same file twice: what it says is already recorded.
            Err(e) if e.code() == "already_rejected" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
