//! A family's page, `/gestion/familles/{id}`: its account (locked since when, unlock, the
//! password e-mail, disable or enable), its details to edit and its children (`children.rs`),
//! each through `app::administration::{family_accounts, tariffs}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::children::{self, ChildForm};
use super::families::{
    account_state, family_errors, family_path, quotient_field, quotient_text, FamilyForm, PATH,
};
use super::form::{self, french, input, refused, Errors};
use crate::app::administration::family_accounts::{self, FamilyAccount};
use crate::app::administration::{children as child_records, tariffs};
use crate::app::Cantine;
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::extract::{ApiForm, ApiPath, ApiQuery, Caller};
use crate::web::pages::format::date_time;
use crate::web::pages::layout::{csrf_field, render};

#[derive(Deserialize)]
pub struct FamilyQuery {
    pub fait: Option<String>,
}

/// What a family's page shows besides the family: a form refused, or a message.
#[derive(Default)]
pub struct Forms {
    pub family: Option<(FamilyForm, Errors)>,
    pub new_child: Option<(ChildForm, Errors)>,
    pub child: Option<(Uuid, ChildForm, Errors)>,
    pub done: Option<&'static str>,
    pub alert: Option<String>,
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FamilyQuery>,
) -> StaffResult<Response> {
    let done = match query.fait.as_deref() {
        Some("creee") => Some("Famille créée."),
        Some("creee-mail") => Some(
            "Famille créée. Le mail « Générer votre mot de passe » est parti à son adresse : \
             le lien est valable une heure.",
        ),
        Some("modifiee") => Some("Les changements sont enregistrés."),
        Some("deverrouillee") => Some("Le compte est déverrouillé : la famille peut se connecter."),
        Some("mail") => Some(
            "Le mail « Générer votre mot de passe » est parti à l'adresse de la famille : le lien \
             est valable une heure.",
        ),
        Some("desactivee") => Some(
            "Le compte est désactivé : ses sessions sont fermées et son mot de passe ne l'ouvre plus.",
        ),
        Some("reactivee") => Some("Le compte est réactivé : la famille peut de nouveau se connecter."),
        Some("enfant-ajoute") => Some("Enfant ajouté."),
        Some("enfant-modifie") => Some("Les changements de l'enfant sont enregistrés."),
        _ => None,
    };
    let forms = Forms {
        done,
        ..Forms::default()
    };
    family_page(&state, &caller, id, forms, StatusCode::OK).await
}

pub async fn family_page(
    state: &Cantine,
    caller: &Caller,
    id: Uuid,
    forms: Forms,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let family = family_accounts::show(state, id).await?;
    let kids = child_records::of_family(state, id).await?;
    let blank;
    let (values, errors) = match &forms.family {
        Some((values, errors)) => (values, errors),
        None => {
            blank = (
                FamilyForm {
                    nom: family.name.clone(),
                    email: family.login.clone(),
                    quotient: family
                        .quotient_familial
                        .map(|q| q.to_string())
                        .unwrap_or_default(),
                    envoyer_mail: None,
                },
                Errors::default(),
            );
            (&blank.0, &blank.1)
        }
    };
    let path = family_path(id);
    let content = html! {
        p { a href=(PATH) { "← Toutes les familles" } }
        p {
            a class="button" href=(super::family_file::file_path(id)) {
                "Dossier de la famille : réservations, factures, solde, réserver ou annuler pour elle"
            }
        }
        @if let Some(done) = forms.done {
            p class="info" role="status" { (done) }
        }
        @if let Some(alert) = &forms.alert {
            p class="alert" role="alert" { (alert) }
        }
        section aria-labelledby="compte" {
            h2 id="compte" { "Compte" }
            dl class="summary" {
                dt { "Adresse e-mail (identifiant)" } dd { (family.login) }
                dt { "Quotient familial" } dd { (quotient_text(family.quotient_familial)) }
                dt { "État du compte" } dd { (account_state(&family)) }
                dt { "Dernière connexion" } dd {
                    @match family.last_login_at { Some(at) => (date_time(at)), None => "Jamais" }
                }
                @if let Some(at) = family.anonymised_at {
                    dt { "Anonymisée" } dd { "le " (date_time(at)) }
                }
            }
            (account_actions(&family, &path, &context.csrf))
        }
        section aria-labelledby="modifier" {
            h2 id="modifier" { "Modifier la famille" }
            (refused(errors, "La famille n'a pas été modifiée"))
            form method="post" action=(form::action(&path, "modifier")) class="stack" {
                (csrf_field(&context.csrf))
                (input(("", "nom"), "Nom de la famille", "text", &values.nom, errors, None))
                (input(("", "email"), "Adresse e-mail (l'identifiant de la famille)", "email", &values.email, errors, None))
                (input(("", "quotient"), "Quotient familial (en euros)", "text", &values.quotient, errors,
                    Some("Vide : inconnu, la famille paie le tarif le plus haut. Les repas déjà réservés gardent leur prix.")))
                p { button type="submit" class="primary" { "Enregistrer" } }
            }
        }
        (children::section(&path, &kids, &forms, &context.csrf))
    };
    Ok(render(
        status,
        page(
            &format!("Famille {}", family.name),
            Some(&context.nav()),
            content,
        ),
    ))
}

fn account_actions(family: &FamilyAccount, path: &str, csrf: &str) -> Markup {
    html! {
        @if let Some(at) = family.locked_at {
            p class="alert" {
                "🔒 Ce compte est verrouillé depuis le " (date_time(at))
                " après trois mots de passe erronés."
            }
            form method="post" action=(form::action(&format!("{path}/deverrouillage"), "compte")) {
                (csrf_field(csrf))
                button type="submit" class="primary" { "Déverrouiller le compte" }
            }
        } @else {
            p { "Le compte n'est pas verrouillé." }
        }
        p {
            "Le mail « Générer votre mot de passe » envoie à la famille un lien, valable une heure, "
            "pour choisir son mot de passe ; il débloque aussi un compte verrouillé."
        }
        form method="post" action=(form::action(&format!("{path}/mot-de-passe"), "compte")) {
            (csrf_field(csrf))
            button type="submit" { "Envoyer le mail « Générer votre mot de passe »" }
        }
        @if family.disabled_at.is_some() {
            form method="post" action=(form::action(&format!("{path}/activation"), "compte")) {
                (csrf_field(csrf))
                button type="submit" { "Réactiver le compte" }
            }
        } @else {
            p class="note" { "Désactiver le compte ferme ses sessions ; son mot de passe ne l'ouvre plus jusqu'à sa réactivation." }
            form method="post" action=(form::action(&format!("{path}/desactivation"), "compte")) {
                (csrf_field(csrf))
                button type="submit" { "Désactiver le compte" }
            }
        }
    }
}

pub async fn edit(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiForm(values): ApiForm<FamilyForm>,
) -> StaffResult<Response> {
    let mut errors = Errors::default();
    let quotient = quotient_field(&values.quotient, &mut errors);
    let outcome = match quotient {
        None => Err(errors),
        Some(quotient) => {
            let edited =
                family_accounts::edit(&state, &caller, id, Some(&values.nom), Some(&values.email))
                    .await;
            match edited {
                Ok(_) => {
                    tariffs::set_quotient(&state, &caller, id, quotient).await?;
                    Ok(())
                }
                Err(e) => Err(family_errors(&e).ok_or(e)?),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(form::done(&format!("{}?fait=modifiee", family_path(id)))),
        Err(errors) => {
            let forms = Forms {
                family: Some((values, errors)),
                ..Forms::default()
            };
            family_page(&state, &caller, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn unlock(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    family_accounts::unlock(&state, &caller, id).await?;
    Ok(form::done(&format!(
        "{}?fait=deverrouillee",
        family_path(id)
    )))
}

pub async fn disable(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    family_accounts::disable(&state, &caller, id).await?;
    Ok(form::done(&format!("{}?fait=desactivee", family_path(id))))
}

pub async fn enable(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    family_accounts::enable(&state, &caller, id).await?;
    Ok(form::done(&format!("{}?fait=reactivee", family_path(id))))
}

pub async fn password_email(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    match family_accounts::send_password_email(&state, &caller, id).await {
        Ok(()) => Ok(form::done(&format!("{}?fait=mail", family_path(id)))),
        Err(e) if e.code() == "account_disabled" => {
            let forms = Forms {
                alert: Some(format!("Le mail n'est pas parti. {}", french(&e))),
                ..Forms::default()
            };
            family_page(&state, &caller, id, forms, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
