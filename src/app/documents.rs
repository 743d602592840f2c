//! The documents administrators publish for families (the canteen's rules, the tariff
//! deliberation): what an upload must be (a PDF of at most [`MAX_SIZE`] with a title and a
//! kind), publishing and withdrawing it, and who may read which (a family only its
//! organisation's current documents). The back office's pages, the portal and the API all go
//! through here, so they accept and refuse alike; the HTTP download is `web::file_download`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::documents::NewDocumentRow;
pub use crate::db::documents::{DocumentFile, DocumentRow};

/// 5 MiB: a rules booklet or a deliberation is a few pages.
pub const MAX_SIZE: usize = 5 * 1024 * 1024;
pub const PDF: &str = "application/pdf";
const TITLE_MAX: usize = 200;

/// The kinds of document, with the words families read.
pub const KINDS: [(&str, &str); 3] = [
    ("rules", "Règlement de la restauration scolaire"),
    ("tariffs", "Délibération tarifaire"),
    ("other", "Autre document"),
];

pub fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .unwrap_or("Document")
}

/// What an upload form or request carries.
#[derive(Default, Debug)]
pub struct Upload {
    pub title: String,
    pub kind: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What is wrong with an upload, field by field, in French.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct UploadErrors {
    pub title: Option<&'static str>,
    pub kind: Option<&'static str>,
    pub file: Option<&'static str>,
}

impl UploadErrors {
    pub fn any(&self) -> bool {
        self.title.is_some() || self.kind.is_some() || self.file.is_some()
    }

    /// The same as one refusal (422), the fields named in its detail.
    pub fn refusal(&self) -> AppError {
        let detail = [
            ("title", self.title),
            ("kind", self.kind),
            ("file", self.file),
        ]
        .iter()
        .filter_map(|(field, message)| message.map(|m| format!("{field}: {m}")))
        .collect::<Vec<_>>()
        .join(" ; ");
        AppError::rule("invalid_document", detail)
    }
}

/// The checks of an upload, before anything is stored.
pub fn check(upload: &Upload) -> UploadErrors {
    let title = upload.title.trim();
    UploadErrors {
        title: if title.is_empty() {
            Some("Donnez un titre au document.")
        } else if title.chars().count() > TITLE_MAX {
            Some("Le titre ne doit pas dépasser 200 caractères.")
        } else {
            None
        },
        kind: (!KINDS.iter().any(|(k, _)| *k == upload.kind))
            .then_some("Choisissez la nature du document."),
        file: if upload.bytes.is_empty() {
            Some("Choisissez un fichier PDF.")
        } else if upload.bytes.len() > MAX_SIZE {
            Some("Le fichier dépasse 5 Mio, la taille maximale.")
        } else if !looks_like_pdf(&upload.bytes) {
            Some("Le fichier n'est pas un PDF : seuls les documents PDF sont acceptés.")
        } else {
            None
        },
    }
}

/// A PDF by its structure, not only its first bytes: the header with a version, at least one
/// object, and the trailer's `startxref` and `%%EOF` at the end, where readers look first.
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    let header = bytes.len() > 8
        && bytes.starts_with(b"%PDF-")
        && matches!(bytes[5], b'1' | b'2')
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit();
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    let contains =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    header && contains(bytes, b" obj") && contains(tail, b"startxref") && contains(tail, b"%%EOF")
}

/// The file's own name, without the path some browsers send and without characters that a
/// download header or a file system would trip on.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '%'))
        .take(TITLE_MAX)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned.starts_with('.') {
        "document.pdf".to_string()
    } else if !cleaned.to_lowercase().ends_with(".pdf") {
        format!("{cleaned}.pdf")
    } else {
        cleaned
    }
}

pub enum PublishError {
    Invalid(UploadErrors),
    Failed(AppError),
}

/// Stores a valid upload as a current document of the organisation; stores nothing otherwise.
pub async fn publish(
    state: &Cantine,
    uploaded_by: Uuid,
    upload: Upload,
) -> Result<Uuid, PublishError> {
    let errors = check(&upload);
    if errors.any() {
        return Err(PublishError::Invalid(errors));
    }
    let id = Uuid::now_v7();
    let file_name = clean_file_name(&upload.file_name);
    db::documents::insert(
        &state.pool,
        NewDocumentRow {
            id,
            organisation_id: state.organisation.id,
            title: upload.title.trim(),
            kind: &upload.kind,
            file_name: &file_name,
            content_type: PDF,
            bytes: &upload.bytes,
            uploaded_by,
            uploaded_at: state.clock.now(),
        },
    )
    .await
    .map_err(|e| PublishError::Failed(e.into()))?;
    tracing::info!(document = %id, size = upload.bytes.len(), "document published");
    Ok(id)
}

/// Withdraws a current document of the organisation: not found when there is none to withdraw.
pub async fn withdraw(state: &Cantine, by: Uuid, id: Uuid) -> AppResult<DateTime<Utc>> {
    let at = state.clock.now();
    if db::documents::withdraw(&state.pool, state.organisation.id, id, by, at).await? {
        tracing::info!(document = %id, "document withdrawn");
        Ok(at)
    } else {
        Err(AppError::not_found("document"))
    }
}

/// The current documents of the caller's family's organisation, the latest first.
pub async fn for_family(state: &Cantine, caller: &Caller) -> AppResult<Vec<DocumentRow>> {
    let family = caller.family()?;
    Ok(db::documents::current_for_family(&state.pool, family).await?)
}

/// A current document of the caller's family's organisation; not found otherwise, so that no
/// other organisation's document is revealed.
pub async fn file_for_family(
    state: &Cantine,
    caller: &Caller,
    id: Uuid,
) -> AppResult<DocumentFile> {
    let family = caller.family()?;
    db::documents::file_for_family(&state.pool, family, id)
        .await?
        .ok_or_else(|| AppError::not_found("document"))
}

/// Every document of the organisation, withdrawn ones too (the administrators' list).
pub async fn all(state: &Cantine) -> AppResult<Vec<DocumentRow>> {
    Ok(db::documents::all(&state.pool, state.organisation.id).await?)
}

/// A document of the organisation for the administrators, withdrawn or not.
pub async fn file(state: &Cantine, id: Uuid) -> AppResult<DocumentFile> {
    db::documents::file(&state.pool, state.organisation.id, id)
        .await?
        .ok_or_else(|| AppError::not_found("document"))
}

/// Whether a kind of document is shown to visitors too (as `db::documents` selects them): the
/// rules and the tariff deliberation are public acts of the town.
pub fn is_public(kind: &str) -> bool {
    matches!(kind, "rules" | "tariffs")
}

/// The current documents anyone may read before logging in (the rules and the tariff
/// deliberation), for the login page.
pub async fn public(state: &Cantine) -> AppResult<Vec<DocumentRow>> {
    Ok(db::documents::public_current(&state.pool, state.organisation.id).await?)
}

/// A public document's file; not found for any other (a family's or a withdrawn one).
pub async fn public_file(state: &Cantine, id: Uuid) -> AppResult<DocumentFile> {
    db::documents::public_file(&state.pool, state.organisation.id, id)
        .await?
        .ok_or_else(|| AppError::not_found("document"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(title: &str, kind: &str, bytes: &[u8]) -> Upload {
        Upload {
            title: title.into(),
            kind: kind.into(),
            file_name: "r.pdf".into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn only_titled_pdfs_of_a_known_kind_and_size_pass() {
        let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\nstartxref\n0\n%%EOF\n";
        assert!(!check(&upload("Règlement", "rules", pdf)).any());
        assert!(check(&upload("Règlement", "rules", b"%PDF-1.7 ...")).any());
        let errors = check(&upload(" ", "menu", b"GIF89a"));
        assert!(errors.title.is_some() && errors.kind.is_some() && errors.file.is_some());
        assert!(check(&upload("R", "rules", b"")).file.is_some());
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_SIZE + 1, b' ');
        assert!(check(&upload("R", "rules", &big))
            .file
            .unwrap()
            .contains("5 Mio"));
    }

    #[test]
    fn file_names_lose_their_path_and_header_breaking_characters() {
        assert_eq!(
            clean_file_name("C:\\Users\\x\\Règlement 2017.pdf"),
            "Règlement 2017.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd.pdf");
        assert_eq!(clean_file_name("a\"b;c.pdf"), "abc.pdf");
        assert_eq!(clean_file_name(""), "document.pdf");
    }
}
