//! `/compte`: the family's account details and its two forms, the password and the login
//! e-mail. Both go through the same use cases as the API (`app::accounts::own_account`), so the
//! portal proves the current password, counts wrong ones towards the lock and ends the other
//! sessions exactly as the API does.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::booking::prices_markup;
use super::context::Context;
use crate::app::accounts::own_account;
use crate::app::accounts::sessions::own_login;
use crate::app::queries::family;
use crate::app::{AppError, Cantine};
use crate::domain::family_contact::{ContactField, FamilyContact};
use crate::domain::tariff::PriceStep;
use crate::web::error::ApiError;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::error::{french_message, PortalError, PortalResult};
use crate::web::pages::format::{date, date_time, euros};
use crate::web::pages::layout::{csrf_field, page, render, see_other};
use crate::web::pages::session::session_cookie;

const PATH: &str = "/compte";

#[derive(Deserialize)]
pub struct AccountQuery {
    pub fait: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub mot_de_passe_actuel: String,
    pub nouveau_mot_de_passe: String,
    pub confirmation: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub mot_de_passe_actuel: String,
    pub identifiant: String,
}

/// "Modifier les informations de la famille": every field may be left empty.
#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    pub adresse: String,
    #[serde(default)]
    pub telephone: String,
    #[serde(default)]
    pub portable: String,
    #[serde(default)]
    pub second_nom: String,
    #[serde(default)]
    pub second_telephone: String,
    #[serde(default)]
    pub second_email: String,
}

impl ContactForm {
    fn of(contact: &FamilyContact) -> ContactForm {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ContactForm {
            adresse: text(&contact.address),
            telephone: text(&contact.phone),
            portable: text(&contact.mobile_phone),
            second_nom: text(&contact.second_guardian_name),
            second_telephone: text(&contact.second_guardian_phone),
            second_email: text(&contact.second_guardian_email),
        }
    }
}

/// Which form a refusal belongs to, so that its message shows next to it.
enum Refusal<'a> {
    Password(&'a str),
    Login(&'a str),
    /// The field refused (if the refusal names one), its message, and what was typed.
    Contact(Option<ContactField>, &'a str, &'a ContactForm),
}

/// The contact details as the account page lists them.
/// An IBAN as shown to the family: its country and its last four characters.
fn masked_iban(iban: &str) -> String {
    crate::domain::sepa::Iban::parse(iban)
        .map(|i| i.masked())
        .unwrap_or_default()
}

fn contact_summary(contact: &FamilyContact) -> Markup {
    let line = |v: &Option<String>| -> Markup {
        html! {
            @match v {
                Some(text) => { @for (i, part) in text.lines().enumerate() { @if i > 0 { br; } (part) } }
                None => { span class="note" { "non renseigné" } }
            }
        }
    };
    html! {
        dl class="summary" {
            dt { "Adresse postale" } dd { (line(&contact.address)) }
            dt { "Téléphone" } dd { (line(&contact.phone)) }
            dt { "Téléphone portable" } dd { (line(&contact.mobile_phone)) }
            dt { "Second responsable" } dd { (line(&contact.second_guardian_name)) }
            dt { "Téléphone du second responsable" } dd { (line(&contact.second_guardian_phone)) }
            dt { "E-mail du second responsable" } dd { (line(&contact.second_guardian_email)) }
        }
    }
}

/// The form of the family's contact details; a refused field says why next to it.
fn contact_form(
    csrf: &str,
    form: &ContactForm,
    refused: Option<(Option<ContactField>, &str)>,
) -> Markup {
    let error_for = |field: ContactField| -> Option<&str> {
        match refused {
            Some((Some(f), message)) if f == field => Some(message),
            _ => None,
        }
    };
    let field = |id: &str,
                 name: &str,
                 label: &str,
                 kind: &str,
                 autocomplete: &str,
                 value: &str,
                 which: ContactField|
     -> Markup {
        let error = error_for(which);
        let error_id = format!("{id}-erreur");
        html! {
            p {
                label for=(id) { (label) }
                @if let Some(message) = error {
                    span class="alert field-error" id=(error_id) role="alert" { (message) }
                    input id=(id) name=(name) type=(kind) autocomplete=(autocomplete) maxlength="254"
                        value=(value) aria-invalid="true" aria-describedby=(error_id);
                } @else {
                    input id=(id) name=(name) type=(kind) autocomplete=(autocomplete) maxlength="254" value=(value);
                }
            }
        }
    };
    let address_error = error_for(ContactField::Address);
    html! {
        @if let Some((None, message)) = refused {
            p class="alert" role="alert" { (message) }
        }
        form method="post" action="/compte/famille" class="stack" {
            (csrf_field(csrf))
            p {
                label for="famille-adresse" { "Adresse postale" }
                @if let Some(message) = address_error {
                    span class="alert field-error" id="famille-adresse-erreur" role="alert" { (message) }
                }
                textarea id="famille-adresse" name="adresse" rows="3" maxlength="300" autocomplete="street-address"
                    aria-invalid=[address_error.map(|_| "true")]
                    aria-describedby=[address_error.map(|_| "famille-adresse-erreur")] { (form.adresse) }
            }
            (field("famille-telephone", "telephone", "Téléphone", "tel", "tel", &form.telephone, ContactField::Phone))
            (field("famille-portable", "portable", "Téléphone portable", "tel", "tel", &form.portable, ContactField::MobilePhone))
            fieldset {
                legend { "Second responsable (l'autre parent, un tuteur)" }
                (field("famille-second-nom", "second_nom", "Nom et prénom du second responsable", "text", "off", &form.second_nom, ContactField::SecondGuardianName))
                (field("famille-second-telephone", "second_telephone", "Téléphone du second responsable", "tel", "off", &form.second_telephone, ContactField::SecondGuardianPhone))
                (field("famille-second-email", "second_email", "Adresse e-mail du second responsable", "email", "off", &form.second_email, ContactField::SecondGuardianEmail))
            }
            p { button type="submit" { "Enregistrer les informations de la famille" } }
        }
    }
}

fn refusal_message(error: &ApiError) -> String {
    match error.code {
        "wrong_password" => "Le mot de passe actuel est incorrect : rien n'a été modifié.".into(),
        "weak_password" => "Le nouveau mot de passe doit compter de 8 à 256 caractères.".into(),
        "invalid_login" => "Saisissez une adresse e-mail valide, sans espace.".into(),
        "login_taken" => "Cette adresse e-mail est déjà celle d'un autre compte.".into(),
        _ => french_message(error),
    }
}

async fn render_page(
    state: &Cantine,
    caller: &Caller,
    done: Option<&str>,
    refusal: Option<Refusal<'_>>,
    status: StatusCode,
) -> PortalResult<Response> {
    let context = Context::load(state, caller, PATH).await?;
    let login = own_login(state, caller).await?;
    let (quotient, quotient_set_at) = family::quotient(state, caller).await?;
    // The family's price in each period still running, from today on.
    let today = state.clock.paris_today();
    let prices: Vec<(String, Vec<PriceStep>)> = family::establishments(state, caller)
        .await?
        .into_iter()
        .flat_map(|e| {
            let name = e.name;
            e.periods
                .into_iter()
                .filter(|p| p.to >= today)
                .map(move |p| {
                    let steps: Vec<PriceStep> =
                        p.prices.into_iter().filter(|s| s.to >= today).collect();
                    (format!("{name} – {} {}", p.activity, p.label), steps)
                })
        })
        .collect();
    let contact = own_account::family_contact(state, caller).await?;
    let (mandates, debits) = crate::app::sepa::own(state, caller).await?;
    let mail_choices = crate::app::mail_preferences::of_family(state, caller).await?;
    let (password_error, login_error, contact_refusal) = match refusal {
        Some(Refusal::Password(message)) => (Some(message), None, None),
        Some(Refusal::Login(message)) => (None, Some(message), None),
        Some(Refusal::Contact(field, message, typed)) => {
            (None, None, Some((field, message, typed)))
        }
        None => (None, None, None),
    };
    let typed = ContactForm::of(&contact);
    let (contact_values, contact_error) = match contact_refusal {
        Some((field, message, typed)) => (typed, Some((field, message))),
        None => (&typed, None),
    };
    let alert = |message: Option<&str>| -> Markup {
        html! { @if let Some(message) = message { p class="alert" role="alert" { (message) } } }
    };
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        section aria-labelledby="details" {
            h2 id="details" { "Mes informations" }
            dl class="summary" {
                dt { "Famille" }
                dd { (context.family.name) }
                dt { "Identifiant de connexion (adresse e-mail)" }
                dd { (login) }
                dt { "Quotient familial" }
                dd {
                    @match quotient {
                        Some(q) => { (q) " €" }
                        None => { "non communiqué : vous payez le tarif de la tranche la plus haute" }
                    }
                    @if let Some(at) = quotient_set_at { " (depuis le " (date_time(at)) ")" }
                    p class="note" { "Fixé par le service à partir de vos justificatifs (CAF ou avis d'imposition) : adressez-vous à votre restaurant scolaire pour le mettre à jour." }
                    @if !prices.is_empty() {
                        ul {
                            @for (period, steps) in &prices {
                                li { (period) " : " (prices_markup(steps, quotient)) }
                            }
                        }
                    }
                }
                dt { "Enfants" }
                dd {
                    ul {
                        @for child in &context.family.children {
                            li { (child.first_name) " " (child.last_name) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="prelevement" {
            h2 id="prelevement" { "Prélèvement automatique" }
            @match mandates.iter().find(|m| m.revoked_at.is_none()) {
                Some(m) => {
                    dl class="summary" {
                        dt { "Mandat de prélèvement SEPA" }
                        dd { "Référence unique du mandat (RUM) : " (m.rum) ", signé le " (date(m.signed_on)) }
                        dt { "Compte débité" }
                        dd { (m.holder) " – " (masked_iban(&m.iban)) " (BIC " (m.bic) ")" }
                    }
                    p class="note" { "Vos factures mensuelles sont prélevées sur ce compte ; chaque prélèvement vous est annoncé au moins 14 jours avant. Pour changer de compte ou arrêter, adressez-vous au service des finances." }
                }
                None => {
                    p { "Aucun mandat de prélèvement en cours. Pour payer vos factures mensuelles par prélèvement, remettez un mandat SEPA signé au service des finances." }
                }
            }
            @if !debits.is_empty() {
                div class="scroll" {
                    table {
                        caption { "Vos prélèvements" }
                        thead { tr {
                            th scope="col" { "Facture" } th scope="col" { "Montant" }
                            th scope="col" { "Date de prélèvement" } th scope="col" { "État" }
                        } }
                        tbody {
                            @for d in &debits {
                                tr {
                                    td { (d.invoice_number) }
                                    td class="amount" { (euros(d.amount)) }
                                    td { (date(d.collection_date)) }
                                    td {
                                        @match &d.reject_code {
                                            Some(code) => { "rejeté par votre banque (" (code) ") : la facture reste à régler" }
                                            None => { "prélevé" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="famille" {
            h2 id="famille" { "Informations de la famille" }
            (contact_summary(&contact))
            details class="card" open[contact_error.is_some()] {
                summary { "Modifier les informations de la famille" }
                p class="note" { "Pour les factures et pour joindre la famille. Laissez vide ce que vous ne souhaitez pas donner." }
                (contact_form(&context.csrf, contact_values, contact_error))
            }
        }
        section aria-labelledby="courriels" {
            h2 id="courriels" { "Courriels reçus" }
            p { "Les courriels qui vous disent une place, une heure limite ou une somme due vous sont toujours envoyés. Vous pouvez choisir de recevoir ou non les autres :" }
            form method="post" action="/compte/courriels" class="stack" {
                (csrf_field(&context.csrf))
                fieldset {
                    legend { "Je souhaite recevoir" }
                    @for (kind, enabled) in &mail_choices {
                        p {
                            input type="checkbox" id={"courriel-" (kind.code())} name="courriel" value=(kind.code()) checked[*enabled];
                            " "
                            label for={"courriel-" (kind.code())} { (kind.french()) }
                        }
                    }
                }
                p { button type="submit" { "Enregistrer mes choix" } }
            }
        }
        section aria-labelledby="changer-mot-de-passe" {
            h2 id="changer-mot-de-passe" { "Changer mon mot de passe" }
            (alert(password_error))
            form method="post" action="/compte/mot-de-passe" class="stack" {
                (csrf_field(&context.csrf))
                // The login lets password managers file the new password under the account.
                input type="hidden" name="identifiant" value=(login) autocomplete="username";
                p {
                    label for="mdp-actuel" { "Mot de passe actuel" }
                    input id="mdp-actuel" name="mot_de_passe_actuel" type="password"
                        autocomplete="current-password" required maxlength="256";
                }
                p {
                    label for="mdp-nouveau" { "Nouveau mot de passe (8 caractères au moins)" }
                    input id="mdp-nouveau" name="nouveau_mot_de_passe" type="password"
                        autocomplete="new-password" required minlength="8" maxlength="256";
                }
                p {
                    label for="mdp-confirmation" { "Confirmation du nouveau mot de passe" }
                    input id="mdp-confirmation" name="confirmation" type="password"
                        autocomplete="new-password" required minlength="8" maxlength="256";
                }
                p { button type="submit" { "Changer mon mot de passe" } }
            }
        }
        section aria-labelledby="changer-identifiant" {
            h2 id="changer-identifiant" { "Changer mon adresse e-mail de connexion" }
            (alert(login_error))
            form method="post" action="/compte/identifiant" class="stack" {
                (csrf_field(&context.csrf))
                p {
                    label for="id-nouveau" { "Nouvelle adresse e-mail" }
                    input id="id-nouveau" name="identifiant" type="email"
                        autocomplete="email" required maxlength="254";
                }
                p {
                    label for="id-mdp-actuel" { "Mot de passe actuel" }
                    input id="id-mdp-actuel" name="mot_de_passe_actuel" type="password"
                        autocomplete="current-password" required maxlength="256";
                }
                p { button type="submit" { "Changer mon adresse e-mail" } }
            }
        }
    };
    Ok(render(
        status,
        page("Mon compte", Some(&context.nav()), content),
    ))
}

/// A refusal the family can act on is shown on the page; a failure of the service is not.
fn shown(error: AppError) -> PortalResult<(StatusCode, String)> {
    let error = ApiError::from(error);
    if error.status.is_server_error() {
        return Err(PortalError(error));
    }
    let message = refusal_message(&error);
    Ok((error.status, message))
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> PortalResult<Response> {
    // Only known words are shown: nothing of the address is echoed into the page.
    let done = match query.fait.as_deref() {
        Some("mot-de-passe") => Some("Votre mot de passe est modifié."),
        Some("identifiant") => Some("Votre adresse e-mail de connexion est modifiée."),
        Some("famille") => Some("Les informations de la famille sont enregistrées."),
        Some("courriels") => Some("Vos choix de courriels sont enregistrés."),
        _ => None,
    };
    render_page(&state, &caller, done, None, StatusCode::OK).await
}

pub async fn change_password(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiForm(form): ApiForm<PasswordForm>,
) -> PortalResult<Response> {
    if form.nouveau_mot_de_passe != form.confirmation {
        let message =
            "Les deux nouveaux mots de passe ne sont pas identiques : rien n'a été modifié.";
        return render_page(
            &state,
            &caller,
            None,
            Some(Refusal::Password(message)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match own_account::change_password(
        &state,
        &caller,
        &client,
        &form.mot_de_passe_actuel,
        &form.nouveau_mot_de_passe,
    )
    .await
    {
        Ok(session) => {
            // Every session of the account has ended, this one too: the browser carries on
            // with the new one.
            let mut response = see_other("/compte?fait=mot-de-passe");
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &session.token));
            Ok(response)
        }
        Err(e) => {
            let (status, message) = shown(e)?;
            render_page(
                &state,
                &caller,
                None,
                Some(Refusal::Password(&message)),
                status,
            )
            .await
        }
    }
}

pub async fn change_login(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiForm(form): ApiForm<LoginForm>,
) -> PortalResult<Response> {
    match own_account::change_login(
        &state,
        &caller,
        &client,
        &form.mot_de_passe_actuel,
        &form.identifiant,
    )
    .await
    {
        Ok(_) => Ok(see_other("/compte?fait=identifiant")),
        Err(e) => {
            let (status, message) = shown(e)?;
            render_page(
                &state,
                &caller,
                None,
                Some(Refusal::Login(&message)),
                status,
            )
            .await
        }
    }
}

/// "Modifier les informations de la famille": stored through the account use case; a field it
/// refuses comes back with its reason next to it, the form filled in again, nothing changed.
pub async fn change_contact(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(form): ApiForm<ContactForm>,
) -> PortalResult<Response> {
    let input = own_account::ContactInput {
        address: &form.adresse,
        phone: &form.telephone,
        mobile_phone: &form.portable,
        second_guardian_name: &form.second_nom,
        second_guardian_phone: &form.second_telephone,
        second_guardian_email: &form.second_email,
    };
    match own_account::set_family_contact(&state, &caller, input).await {
        Ok(_) => Ok(see_other("/compte?fait=famille")),
        Err(e) => {
            let field = ContactField::parse_code(e.code());
            let (status, message) = shown(e)?;
            render_page(
                &state,
                &caller,
                None,
                Some(Refusal::Contact(field, &message, &form)),
                status,
            )
            .await
        }
    }
}

/// The optional e-mails the family wants (the boxes ticked); the others are turned off.
pub async fn change_mail_choices(
    State(state): State<Cantine>,
    caller: Caller,
    body: axum::body::Bytes,
) -> PortalResult<Response> {
    let wanted: Vec<crate::domain::notification::NoticeKind> = std::str::from_utf8(&body)
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == "courriel")
        .filter_map(|(_, v)| crate::domain::notification::NoticeKind::parse(v))
        .collect();
    crate::app::mail_preferences::set(&state, &caller, &wanted).await?;
    Ok(see_other("/compte?fait=courriels#courriels"))
}
