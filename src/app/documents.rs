//! The documents administrators publish for families (the canteen's rules, the tariff
//! deliberation): what an upload must be (a PDF of at most [`MAX_SIZE`] with a title and a
//! kind), publishing and withdrawing it, and how a download is answered. The back office's
//! pages and the API both go through here, so they accept and refuse alike.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::Cantine;
use crate::db;
use crate::db::documents::{DocumentFile, NewDocumentRow};
use crate::web::error::ApiError;

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

    /// The same as one API problem (422), the fields named in its detail.
    pub fn problem(&self) -> ApiError {
        let detail = [
            ("title", self.title),
            ("kind", self.kind),
            ("file", self.file),
        ]
        .iter()
        .filter_map(|(field, message)| message.map(|m| format!("{field}: {m}")))
        .collect::<Vec<_>>()
        .join(" ; ");
        ApiError::rule("invalid_document", detail)
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
        } else if !upload.bytes.starts_with(b"%PDF-") {
            Some("Le fichier n'est pas un PDF : seuls les documents PDF sont acceptés.")
        } else {
            None
        },
    }
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
    Failed(ApiError),
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

/// Withdraws a current document of the organisation: 404 when there is none to withdraw.
pub async fn withdraw(state: &Cantine, by: Uuid, id: Uuid) -> Result<DateTime<Utc>, ApiError> {
    let at = state.clock.now();
    if db::documents::withdraw(&state.pool, state.organisation.id, id, by, at).await? {
        tracing::info!(document = %id, "document withdrawn");
        Ok(at)
    } else {
        Err(ApiError::not_found("document"))
    }
}

/// The file as a download: its type, and its name both in ASCII and in UTF-8 (RFC 6266).
pub fn download(file: DocumentFile) -> Response {
    let ascii: String = file
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file
        .file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
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
        assert!(!check(&upload("Règlement", "rules", b"%PDF-1.7 ...")).any());
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
