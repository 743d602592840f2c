//! Back-office failures as French pages that lead back to the back office's home.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::layout::error_page;
use crate::web::error::ApiError;
use crate::web::pages::error::{french_message, page_error_conversions, PortalError};

pub struct StaffError(pub ApiError);

pub type StaffResult<T> = Result<T, StaffError>;

page_error_conversions!(StaffError);

impl From<PortalError> for StaffError {
    fn from(e: PortalError) -> Self {
        StaffError(e.0)
    }
}

impl IntoResponse for StaffError {
    fn into_response(self) -> Response {
        let (title, message) = match self.0.status {
            StatusCode::NOT_FOUND => ("Page introuvable", "Cette page n'existe pas.".to_string()),
            StatusCode::FORBIDDEN => (
                "Accès refusé",
                "Cette page n'est pas ouverte à votre rôle.".to_string(),
            ),
            s if s.is_server_error() => ("Erreur du service", french_message(&self.0)),
            _ => ("Demande refusée", french_message(&self.0)),
        };
        error_page(self.0.status, title, &message)
    }
}
