//! Refusals and failures as French pages: the API's errors (`ApiError`) keep their status, and
//! their codes are put in words parents read.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::layout::{refusal_page, PORTAL};
use crate::web::error::ApiError;

pub struct PortalError(pub ApiError);

pub type PortalResult<T> = Result<T, PortalError>;

/// What every page error type is made from: the API's error, the application's, SQL's. Each side
/// of the site has its own type only to choose its own error page.
macro_rules! page_error_conversions {
    ($page_error:ident) => {
        impl From<$crate::web::error::ApiError> for $page_error {
            fn from(e: $crate::web::error::ApiError) -> Self {
                $page_error(e)
            }
        }

        impl From<$crate::app::AppError> for $page_error {
            fn from(e: $crate::app::AppError) -> Self {
                $page_error(e.into())
            }
        }

        impl From<sqlx::Error> for $page_error {
            fn from(e: sqlx::Error) -> Self {
                $page_error(e.into())
            }
        }
    };
}
pub(crate) use page_error_conversions;

page_error_conversions!(PortalError);

/// The sentence for an API error code; the API's own detail when it is already French.
pub fn french_message(error: &ApiError) -> String {
    french_for_code(error.code)
        .map(str::to_string)
        .unwrap_or_else(|| error.detail.clone())
}

/// The sentence for a code, when the portal has one.
pub fn french_for_code(code: &str) -> Option<&'static str> {
    let text = match code {
        "not_found" => "Cette page n'existe pas, ou ne concerne pas votre famille.",
        "forbidden" => "Cet espace est réservé aux comptes famille.",
        "unauthorized" => "Connectez-vous pour continuer.",
        "internal" => "Une erreur est survenue de notre côté. Réessayez dans un instant.",
        "concurrent_change" => "Votre réservation vient d'être modifiée ailleurs : réessayez.",
        "payment_pending" => {
            "Un paiement est déjà en cours pour cette réservation : terminez-le ou attendez \
             quelques minutes."
        }
        "payment_deadline_passed" => {
            "Le délai de paiement est dépassé : la réservation a été annulée automatiquement."
        }
        "no_reservations" => "Votre panier est vide.",
        "no_days" => "Choisissez au moins un jour.",
        "no_bookable_day" => {
            "Aucun des jours choisis ne peut être réservé (complet, fermé ou délai dépassé)."
        }
        "hold_expired" => {
            "La demande n'a pas été confirmée à temps : ses places ont été libérées. \
             Refaites une réservation."
        }
        "already_confirmed" => "Cette réservation est déjà confirmée.",
        "already_paid" => "Cette réservation est déjà payée.",
        "already_expired" => "Cette réservation a expiré.",
        "already_cancelled" => "Cette réservation est annulée.",
        "invalid_selection" => "Ce choix de jours n'est pas valable.",
        "past_cutoff" => "Le délai est dépassé pour certains jours : ils ne peuvent plus changer.",
        "unknown_days" => "Ces jours ne font pas partie de la réservation, ou sont déjà annulés.",
        "invalid_parameter" | "malformed_body" => "La demande est incomplète ou mal formée.",
        "account_locked" => {
            "Votre compte est verrouillé après 3 mots de passe erronés : utilisez « Générer votre \
             mot de passe » pour le débloquer."
        }
        "too_many_attempts" => "Trop d'essais : patientez un instant avant de réessayer.",
        _ => return None,
    };
    Some(text)
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    error_page_with_link(
        status,
        title,
        message,
        ("/", "Retour à l'accueil du portail"),
    )
}

/// A refusal that points somewhere useful to whoever got it (staff are sent to their own space).
pub fn error_page_with_link(
    status: StatusCode,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Response {
    refusal_page(&PORTAL, status, title, message, link)
}

/// The CSRF refusal: a form that does not carry its session's token.
pub fn csrf_refused() -> Response {
    csrf_refused_from("/")
}

/// The same, pointing back to the home of the side of the site the form came from.
pub fn csrf_refused_from(home: &str) -> Response {
    error_page_with_link(
        StatusCode::FORBIDDEN,
        "Formulaire refusé",
        "Ce formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.",
        (home, "Retour à l'accueil"),
    )
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "Page introuvable",
            StatusCode::FORBIDDEN => "Accès refusé",
            s if s.is_server_error() => "Erreur du service",
            _ => "Demande refusée",
        };
        error_page(self.0.status, title, &french_message(&self.0))
    }
}
