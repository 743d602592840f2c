//! SEPA direct debit (prélèvement SEPA), the way French towns collect canteen bills.
//!
//! - A family signs a **mandate**: its account (IBAN, checked by the ISO 13616 mod-97 checksum,
//!   and BIC), the account holder, a mandate reference (RUM, unique per organisation), the date
//!   of signature and whether its first debit is still to come (`FRST`) or it was already used
//!   (`RCUR`). Signing and revoking are events of the `SepaMandate` aggregate.
//! - The organisation is the **creditor**, known to banks by its SEPA creditor identifier (ICS,
//!   checked by its own mod-97 rule), and is paid on its account (IBAN, BIC).
//! - Each month, a **collection batch** debits the unpaid monthly invoices of the families
//!   with a mandate: a pain.008.001.02 file (ISO 20022 "customer direct debit initiation"),
//!   first debits (`FRST`) and recurrent ones (`RCUR`) in their own payment information blocks.
//!   The families are pre-notified on the day the batch is made, and the debit is asked for
//!   [`PRENOTIFICATION_DAYS`] later, on a TARGET2 business day.
//! - A **rejected** debit (an R-transaction: the bank's reason code such as `AM04`, insufficient
//!   funds) re-opens the invoice: it is due again.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MANDATE_AGGREGATE: &str = "SepaMandate";
pub const CREDITOR_AGGREGATE: &str = "SepaCreditor";
pub const BATCH_AGGREGATE: &str = "SepaBatch";
pub const EVENT_VERSION: &str = "1.0";

/// Calendar days between the pre-notification and the debit (the SEPA rulebook's default).
pub const PRENOTIFICATION_DAYS: i64 = 14;

/// Why an account number, a BIC or a creditor identifier is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SepaIdError {
    #[error(
        "the IBAN is malformed (two letters, two check digits, then 11 to 30 letters or digits)"
    )]
    IbanFormat,
    #[error("the IBAN has {found} characters; a {country} IBAN has {expected}")]
    IbanLength {
        country: String,
        expected: usize,
        found: usize,
    },
    #[error("the IBAN's check digits are wrong (ISO 13616 mod-97): a character was mistyped")]
    IbanChecksum,
    #[error("the BIC is malformed (8 or 11 characters: bank, country, place, branch)")]
    Bic,
    #[error("the SEPA creditor identifier is malformed (e.g. FR72ZZZ123456)")]
    CreditorIdFormat,
    #[error("the SEPA creditor identifier's check digits are wrong (mod-97)")]
    CreditorIdChecksum,
}

/// The letters and digits of `text` without spaces, in capitals.
fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The remainder by 97 of the number written by `text`, letters counting A = 10 … Z = 35.
fn mod97(text: &str) -> Option<u32> {
    let mut rest: u32 = 0;
    for c in text.chars() {
        let value = c.to_digit(36)?;
        rest = if value < 10 {
            (rest * 10 + value) % 97
        } else {
            (rest * 100 + value) % 97
        };
    }
    Some(rest)
}

/// The IBAN lengths of the SEPA countries families most often bank in; others are checked
/// against the general 15 to 34.
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "FR" | "MC" | "IT" | "SM" => 27,
        "DE" | "GB" | "IE" => 22,
        "BE" => 16,
        "ES" | "SE" | "SK" | "CZ" | "RO" => 24,
        "LU" | "AT" | "EE" | "LT" => 20,
        "NL" => 18,
        "PT" => 25,
        "CH" | "LI" | "LV" => 21,
        "AD" => 24,
        "FI" | "DK" => 18,
        "NO" => 15,
        "PL" | "HU" | "CY" => 28,
        "GR" => 27,
        "MT" => 31,
        _ => return None,
    })
}

/// An account number checked by ISO 13616: country, two check digits, the national number;
/// moving the first four characters to the end gives a number whose remainder by 97 is 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Iban(String);

impl Iban {
    pub fn parse(text: &str) -> Result<Self, SepaIdError> {
        let iban = compact(text);
        let bytes = iban.as_bytes();
        if !(15..=34).contains(&iban.len())
            || !bytes[..2].iter().all(u8::is_ascii_uppercase)
            || !bytes[2..4].iter().all(u8::is_ascii_digit)
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(SepaIdError::IbanFormat);
        }
        if let Some(expected) = iban_length(&iban[..2]) {
            if expected != iban.len() {
                return Err(SepaIdError::IbanLength {
                    country: iban[..2].to_string(),
                    expected,
                    found: iban.len(),
                });
            }
        }
        let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
        if mod97(&rearranged) != Some(1) {
            return Err(SepaIdError::IbanChecksum);
        }
        Ok(Iban(iban))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped by four, as printed: `FR76 3000 6000 0112 3456 7890 189`.
    pub fn printed(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Shown to anyone but finance: the country and the last four characters.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}•• •••• {}", &self.0[..2], &self.0[n - 4..])
    }
}

/// A bank's identifier (ISO 9362): 4 letters of bank, 2 of country, 2 of place, 3 of branch.
pub fn check_bic(text: &str) -> Result<String, SepaIdError> {
    let bic = compact(text);
    let b = bic.as_bytes();
    let ok = (bic.len() == 8 || bic.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(bic)
    } else {
        Err(SepaIdError::Bic)
    }
}

/// A SEPA creditor identifier (ICS in France, e.g. `FR72ZZZ123456`): country, two check
/// digits, a three-character business code that the check ignores, the national identifier;
/// the national identifier followed by the country and the check digits leaves 1 by 97.
pub fn check_creditor_id(text: &str) -> Result<String, SepaIdError> {
    let id = compact(text);
    let b = id.as_bytes();
    if !(8..=35).contains(&id.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
        || (&id[..2] == "FR" && id.len() != 13)
    {
        return Err(SepaIdError::CreditorIdFormat);
    }
    let rearranged = format!("{}{}", &id[7..], &id[..4]);
    if mod97(&rearranged) != Some(1) {
        return Err(SepaIdError::CreditorIdChecksum);
    }
    Ok(id)
}

/// Whether the mandate's next debit is its first (`FRST`) or a recurrent one (`RCUR`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SequenceType {
    First,
    Recurrent,
}

impl SequenceType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "first" | "FRST" => Some(SequenceType::First),
            "recurrent" | "RCUR" => Some(SequenceType::Recurrent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SequenceType::First => "first",
            SequenceType::Recurrent => "recurrent",
        }
    }

    /// The pain.008 code.
    pub fn code(self) -> &'static str {
        match self {
            SequenceType::First => "FRST",
            SequenceType::Recurrent => "RCUR",
        }
    }

    pub fn french(self) -> &'static str {
        match self {
            SequenceType::First => "premier prélèvement à venir",
            SequenceType::Recurrent => "prélèvements récurrents",
        }
    }

    /// A mandate signed as `first` debits `FRST` until one of its debits was collected and not
    /// rejected; then `RCUR` (after a rejected first debit, the next one is a first again).
    pub fn next(signed_as: SequenceType, collected_before: bool) -> SequenceType {
        if signed_as == SequenceType::First && !collected_before {
            SequenceType::First
        } else {
            SequenceType::Recurrent
        }
    }
}

/// A family's direct-debit mandate, as signed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MandateSigned {
    pub mandate_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    /// Référence unique du mandat, unique per organisation.
    pub rum: String,
    pub iban: Iban,
    pub bic: String,
    pub holder: String,
    pub signed_on: NaiveDate,
    pub sequence: SequenceType,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MandateRevoked {
    pub mandate_id: Uuid,
    pub family_id: Uuid,
    pub reason: String,
    pub revoked_on: NaiveDate,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum MandateEvent {
    MandateSigned(MandateSigned),
    MandateRevoked(MandateRevoked),
}

impl MandateEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            MandateEvent::MandateSigned(_) => "MandateSigned",
            MandateEvent::MandateRevoked(_) => "MandateRevoked",
        }
    }
}

/// The organisation as a SEPA creditor (its settings), recorded each time it is set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CreditorSet {
    pub organisation_id: Uuid,
    pub name: String,
    /// The ICS.
    pub creditor_id: String,
    pub iban: Iban,
    pub bic: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum CreditorEvent {
    SepaCreditorSet(CreditorSet),
}

/// A month's collection batch, as made (its file is kept as written).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BatchPrepared {
    pub batch_id: Uuid,
    pub organisation_id: Uuid,
    pub month: String,
    pub message_id: String,
    pub prenotified_on: NaiveDate,
    pub collection_date: NaiveDate,
    pub debits: Vec<Uuid>,
    pub transactions: usize,
    pub control_sum: Decimal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum BatchEvent {
    SepaBatchPrepared(BatchPrepared),
}

/// TARGET2's closing days: weekends, 1 January, Good Friday, Easter Monday, 1 May, 25 and
/// 26 December. Debits are settled on the other days.
pub fn is_target_day(day: NaiveDate) -> bool {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    let easter = super::holidays::easter_sunday(day.year());
    let fixed = [(1, 1), (5, 1), (12, 25), (12, 26)];
    !(fixed.contains(&(day.month(), day.day()))
        || day == easter - Duration::days(2)
        || day == easter + Duration::days(1))
}

/// The day a batch made (and its families pre-notified) on `prenotified_on` asks its debits
/// for: [`PRENOTIFICATION_DAYS`] later, or the next TARGET2 business day.
pub fn collection_date(prenotified_on: NaiveDate) -> NaiveDate {
    let mut day = prenotified_on + Duration::days(PRENOTIFICATION_DAYS);
    while !is_target_day(day) {
        day += Duration::days(1);
    }
    day
}

/// The R-transaction reason codes a bank returns for a rejected or returned debit
/// (ISO 20022 ExternalStatusReason1Code, as the EPC's SDD Core rulebook uses them), in French.
pub const REASON_CODES: &[(&str, &str)] = &[
    ("AC01", "IBAN incorrect"),
    ("AC04", "Compte clôturé"),
    ("AC06", "Compte bloqué"),
    (
        "AC13",
        "Compte du débiteur invalide (compte de consommateur)",
    ),
    ("AG01", "Opération interdite sur ce compte"),
    ("AG02", "Code opération invalide"),
    ("AM04", "Provision insuffisante"),
    ("AM05", "Prélèvement en double"),
    ("BE05", "Identifiant du créancier incorrect"),
    ("CNOR", "Banque du créancier injoignable"),
    ("DNOR", "Banque du débiteur injoignable"),
    ("FF01", "Format de fichier invalide"),
    ("MD01", "Pas de mandat"),
    ("MD02", "Données du mandat manquantes ou erronées"),
    ("MD06", "Remboursement demandé par le débiteur"),
    ("MD07", "Débiteur décédé"),
    ("MS02", "Refus du débiteur"),
    ("MS03", "Motif non communiqué"),
    ("RC01", "BIC incorrect"),
    (
        "RR01",
        "Identification du débiteur manquante (raison réglementaire)",
    ),
    (
        "RR02",
        "Nom ou adresse du débiteur manquant (raison réglementaire)",
    ),
    (
        "RR03",
        "Nom ou adresse du créancier manquant (raison réglementaire)",
    ),
    ("RR04", "Raison réglementaire"),
    ("SL01", "Service spécifique de la banque du débiteur"),
];

/// The French words of a reason code, if it is one.
pub fn reason_label(code: &str) -> Option<&'static str> {
    REASON_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| *label)
}

/// Text as the SEPA character set allows it (Latin letters without accents, digits and
/// `/ - ? : ( ) . , ' +` and space), at most `max` characters.
pub fn sepa_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let mapped: &str = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => "A",
            'ç' => "c",
            'Ç' => "C",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'È' | 'É' | 'Ê' | 'Ë' => "E",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'Ì' | 'Í' | 'Î' | 'Ï' => "I",
            'ñ' => "n",
            'Ñ' => "N",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
            'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => "O",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
            'ÿ' => "y",
            'œ' => "oe",
            'Œ' => "OE",
            'æ' => "ae",
            'Æ' => "AE",
            '’' | '`' => "'",
            '–' | '—' | '_' => "-",
            '°' => "o",
            c if c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c) => {
                out.push(c);
                continue;
            }
            _ => " ",
        };
        out.push_str(mapped);
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = collapsed.chars().take(max).collect();
    if cut.is_empty() {
        cut.push('-');
    }
    cut
}

/// One debit of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Debit {
    /// `EndToEndId`: comes back in the bank's R-transaction.
    pub end_to_end_id: String,
    pub amount: Decimal,
    pub sequence: SequenceType,
    pub rum: String,
    pub signed_on: NaiveDate,
    pub debtor_name: String,
    pub iban: Iban,
    pub bic: String,
    /// What the family reads on its bank statement.
    pub remittance: String,
}

/// The creditor as the file names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Creditor {
    pub name: String,
    pub creditor_id: String,
    pub iban: Iban,
    pub bic: String,
}

/// A batch as written to its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub message_id: String,
    /// `CreDtTm`: local time of the creditor, without offset (`2027-01-05T10:30:00`).
    pub created_at: chrono::NaiveDateTime,
    pub prenotified_on: NaiveDate,
    pub collection_date: NaiveDate,
    pub creditor: Creditor,
    pub debits: Vec<Debit>,
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn amount(value: Decimal) -> String {
    format!("{:.2}", value.round_dp(2))
}

/// The batch as a pain.008.001.02 document: one group header, then one payment information
/// block per sequence type present (`FRST` first, then `RCUR`), each with its debits.
pub fn pain008(batch: &Batch) -> String {
    use std::fmt::Write;
    let total: Decimal = batch.debits.iter().map(|d| d.amount).sum();
    let creditor_name = xml_escape(&sepa_text(&batch.creditor.name, 70));
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
    x.push_str("  <CstmrDrctDbtInitn>\n    <GrpHdr>\n");
    let _ = writeln!(
        x,
        "      <MsgId>{}</MsgId>",
        xml_escape(&sepa_text(&batch.message_id, 35))
    );
    let _ = writeln!(
        x,
        "      <CreDtTm>{}</CreDtTm>",
        batch.created_at.format("%Y-%m-%dT%H:%M:%S")
    );
    let _ = writeln!(x, "      <NbOfTxs>{}</NbOfTxs>", batch.debits.len());
    let _ = writeln!(x, "      <CtrlSum>{}</CtrlSum>", amount(total));
    let _ = writeln!(
        x,
        "      <InitgPty>\n        <Nm>{creditor_name}</Nm>\n      </InitgPty>"
    );
    x.push_str("    </GrpHdr>\n");
    for sequence in [SequenceType::First, SequenceType::Recurrent] {
        let debits: Vec<&Debit> = batch
            .debits
            .iter()
            .filter(|d| d.sequence == sequence)
            .collect();
        if debits.is_empty() {
            continue;
        }
        let sum: Decimal = debits.iter().map(|d| d.amount).sum();
        x.push_str("    <PmtInf>\n");
        let _ = writeln!(
            x,
            "      <PmtInfId>{}</PmtInfId>",
            xml_escape(&sepa_text(
                &format!("{}-{}", batch.message_id, sequence.code()),
                35
            ))
        );
        x.push_str("      <PmtMtd>DD</PmtMtd>\n      <BtchBookg>true</BtchBookg>\n");
        let _ = writeln!(x, "      <NbOfTxs>{}</NbOfTxs>", debits.len());
        let _ = writeln!(x, "      <CtrlSum>{}</CtrlSum>", amount(sum));
        let _ = writeln!(
            x,
            "      <PmtTpInf>\n        <SvcLvl>\n          <Cd>SEPA</Cd>\n        </SvcLvl>\n        <LclInstrm>\n          <Cd>CORE</Cd>\n        </LclInstrm>\n        <SeqTp>{}</SeqTp>\n      </PmtTpInf>",
            sequence.code()
        );
        let _ = writeln!(
            x,
            "      <ReqdColltnDt>{}</ReqdColltnDt>",
            batch.collection_date
        );
        let _ = writeln!(
            x,
            "      <Cdtr>\n        <Nm>{creditor_name}</Nm>\n      </Cdtr>"
        );
        let _ = writeln!(
            x,
            "      <CdtrAcct>\n        <Id>\n          <IBAN>{}</IBAN>\n        </Id>\n      </CdtrAcct>",
            batch.creditor.iban.as_str()
        );
        let _ = writeln!(
            x,
            "      <CdtrAgt>\n        <FinInstnId>\n          <BIC>{}</BIC>\n        </FinInstnId>\n      </CdtrAgt>",
            batch.creditor.bic
        );
        x.push_str("      <ChrgBr>SLEV</ChrgBr>\n");
        let _ = writeln!(
            x,
            "      <CdtrSchmeId>\n        <Id>\n          <PrvtId>\n            <Othr>\n              <Id>{}</Id>\n              <SchmeNm>\n                <Prtry>SEPA</Prtry>\n              </SchmeNm>\n            </Othr>\n          </PrvtId>\n        </Id>\n      </CdtrSchmeId>",
            batch.creditor.creditor_id
        );
        for d in debits {
            x.push_str("      <DrctDbtTxInf>\n");
            let _ = writeln!(
                x,
                "        <PmtId>\n          <EndToEndId>{}</EndToEndId>\n        </PmtId>",
                xml_escape(&sepa_text(&d.end_to_end_id, 35))
            );
            let _ = writeln!(
                x,
                "        <InstdAmt Ccy=\"EUR\">{}</InstdAmt>",
                amount(d.amount)
            );
            let _ = writeln!(
                x,
                "        <DrctDbtTx>\n          <MndtRltdInf>\n            <MndtId>{}</MndtId>\n            <DtOfSgntr>{}</DtOfSgntr>\n          </MndtRltdInf>\n          <PreNtfctnDt>{}</PreNtfctnDt>\n        </DrctDbtTx>",
                xml_escape(&sepa_text(&d.rum, 35)),
                d.signed_on,
                batch.prenotified_on
            );
            let _ = writeln!(
                x,
                "        <DbtrAgt>\n          <FinInstnId>\n            <BIC>{}</BIC>\n          </FinInstnId>\n        </DbtrAgt>",
                d.bic
            );
            let _ = writeln!(
                x,
                "        <Dbtr>\n          <Nm>{}</Nm>\n        </Dbtr>",
                xml_escape(&sepa_text(&d.debtor_name, 70))
            );
            let _ = writeln!(
                x,
                "        <DbtrAcct>\n          <Id>\n            <IBAN>{}</IBAN>\n          </Id>\n        </DbtrAcct>",
                d.iban.as_str()
            );
            let _ = writeln!(
                x,
                "        <RmtInf>\n          <Ustrd>{}</Ustrd>\n        </RmtInf>",
                xml_escape(&sepa_text(&d.remittance, 140))
            );
            x.push_str("      </DrctDbtTxInf>\n");
        }
        x.push_str("    </PmtInf>\n");
    }
    x.push_str("  </CstmrDrctDbtInitn>\n</Document>\n");
    x
}

/// The returned debits an R-file lists, as `(end-to-end id, reason code)`: a pain.002
/// status report (`TxInfAndSts` with `OrgnlEndToEndId` and `StsRsnInf/Rsn/Cd`) or a camt.054
/// notification of returns (`TxDtls` with `Refs/EndToEndId` and `RtrInf/Rsn/Cd`). Nothing
/// else of the file is read; `None` when it is neither.
pub fn r_transactions(xml: &str) -> Option<Vec<(String, String)>> {
    fn inner<'a>(block: &'a str, tag: &str) -> Option<&'a str> {
        // `<Tag>` or `<prefix:Tag>`.
        let open = block.find(&format!("{tag}>"))?;
        let start = open + tag.len() + 1;
        let end = block[start..].find("</")? + start;
        Some(block[start..end].trim())
    }
    fn blocks<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = xml;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            out.push(&after[..end]);
            rest = &after[end + close.len()..];
        }
        out
    }
    let xml = xml.replace("<ns:", "<").replace("</ns:", "</");
    let (status_report, returns) = (xml.contains("pain.002"), xml.contains("camt.054"));
    if !status_report && !returns {
        return None;
    }
    let mut found = Vec::new();
    for block in blocks(&xml, "TxInfAndSts")
        .into_iter()
        .chain(blocks(&xml, "TxDtls"))
    {
        let id = inner(block, "OrgnlEndToEndId").or_else(|| inner(block, "EndToEndId"));
        let code = block.find("<Rsn>").and_then(|at| inner(&block[at..], "Cd"));
        if let (Some(id), Some(code)) = (id, code) {
            found.push((id.to_string(), code.to_string()));
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_mod97_checksum() {
        let iban = Iban::parse("fr76 3000 6000 0112 3456 7890 189").unwrap();
        assert_eq!(iban.as_str(), "FR7630006000011234567890189");
        assert_eq!(iban.printed(), "FR76 3000 6000 0112 3456 7890 189");
        assert!(Iban::parse("DE89370400440532013000").is_ok());
        assert!(Iban::parse("BE68539007547034").is_ok());
        // One digit mistyped, two swapped: the checksum catches both.
        assert_eq!(
            Iban::parse("FR7630006000011234567890188"),
            Err(SepaIdError::IbanChecksum)
        );
        assert_eq!(
            Iban::parse("FR7630006000011234567809189"),
            Err(SepaIdError::IbanChecksum)
        );
        assert!(matches!(
            Iban::parse("FR763000600001123456789018"),
            Err(SepaIdError::IbanLength { .. })
        ));
        assert_eq!(Iban::parse("7630006000"), Err(SepaIdError::IbanFormat));
        assert_eq!(Iban::parse(""), Err(SepaIdError::IbanFormat));
    }

    #[test]
    fn bics_and_creditor_ids_are_checked() {
        assert_eq!(check_bic("bnpa frpp").unwrap(), "BNPAFRPP");
        assert!(check_bic("AGRIFRPP812").is_ok());
        assert!(check_bic("BNPAFRP").is_err());
        assert!(check_bic("BNPAFR1P").is_err());
        assert_eq!(check_creditor_id("FR72ZZZ123456").unwrap(), "FR72ZZZ123456");
        assert!(check_creditor_id("DE98ZZZ09999999999").is_ok());
        // The business code is not part of the check; the national identifier is.
        assert!(check_creditor_id("FR72ABC123456").is_ok());
        assert_eq!(
            check_creditor_id("FR72ZZZ123457"),
            Err(SepaIdError::CreditorIdChecksum)
        );
        assert_eq!(
            check_creditor_id("FR72ZZZ12345"),
            Err(SepaIdError::CreditorIdFormat)
        );
    }

    #[test]
    fn debits_are_asked_fourteen_days_after_the_notice_on_a_target_day() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 2027-01-04 (Monday) + 14 = Monday 18th.
        assert_eq!(collection_date(day("2027-01-04")), day("2027-01-18"));
        // + 14 = Saturday: the next Monday.
        assert_eq!(collection_date(day("2027-01-02")), day("2027-01-18"));
        // 2026-12-11 + 14 = 25 December (Friday), then a weekend: Monday 28th.
        assert_eq!(collection_date(day("2026-12-11")), day("2026-12-28"));
        // Good Friday 2027 is 26 March, Easter Monday 29 March.
        assert_eq!(collection_date(day("2027-03-12")), day("2027-03-30"));
    }

    #[test]
    fn first_until_one_debit_was_collected() {
        use SequenceType::*;
        assert_eq!(SequenceType::next(First, false), First);
        assert_eq!(SequenceType::next(First, true), Recurrent);
        assert_eq!(SequenceType::next(Recurrent, false), Recurrent);
    }

    #[test]
    fn r_files_name_their_debits_and_reasons() {
        let pain002 = r#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
            <OrgnlPmtInfAndSts><TxInfAndSts><StsId>1</StsId><OrgnlEndToEndId>2027-000001-000001</OrgnlEndToEndId>
            <TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></TxInfAndSts>
            <TxInfAndSts><OrgnlEndToEndId>2027-000002-000001</OrgnlEndToEndId><TxSts>RJCT</TxSts>
            <StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"#;
        assert_eq!(
            r_transactions(pain002).unwrap(),
            vec![
                ("2027-000001-000001".to_string(), "AM04".to_string()),
                ("2027-000002-000001".to_string(), "AC04".to_string())
            ]
        );
        assert_eq!(r_transactions("<html></html>"), None);
    }

    #[test]
    fn texts_keep_to_the_sepa_characters() {
        assert_eq!(
            sepa_text("Famille Lefèvre-Noël & Cie", 70),
            "Famille Lefevre-Noel Cie"
        );
        assert_eq!(sepa_text("Œuvre", 3), "OEu");
        assert_eq!(sepa_text("<>", 10), "-");
    }
}
