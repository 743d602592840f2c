//! `/gestion/audit`: the auditors' pages, read-only. The latest `audit verify` and a button that
//! starts one (a job, `app::jobs::audit_verification`: its phase while it runs, then what it
//! found); the event log, filtered and paged, each event with its payload, metadata, position
//! and chain hash; and the login log.

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::jobs::audit_verification::{self, Phase, Verification};
use crate::app::queries::audit::{self, LogFilter};
use crate::app::Cantine;
use crate::web::extract::{ApiQuery, Caller};
use crate::web::pages::format::date_time;
use crate::web::pages::layout::{csrf_field, ok, see_other};

pub const PATH: &str = "/gestion/audit";
pub const EVENTS: &str = "/gestion/audit/evenements";
pub const LOGINS: &str = "/gestion/audit/connexions";
pub const VERIFY: &str = "/gestion/audit/verification";

pub async fn home(State(state): State<Cantine>, caller: Caller) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let latest = audit_verification::latest(&state).await?;
    let content = html! {
        ul class="sections" {
            li class="card" {
                h2 { a href=(EVENTS) { "Journal des événements" } }
                p { "Chaque événement du journal, filtré par dates, type, réservation ou famille, avec son contenu, ses métadonnées, sa position et son empreinte de chaînage." }
            }
            li class="card" {
                h2 { a href=(LOGINS) { "Journal des connexions" } }
                p { "Chaque tentative de connexion : qui, quand, d'où, et son résultat." }
            }
        }
        section aria-labelledby="verification" {
            h2 id="verification" { "Vérification du journal" }
            p {
                "La vérification recalcule la chaîne d'empreintes de tous les événements (un événement "
                "modifié, supprimé ou ajouté en dehors du service la rompt), puis rejoue tout le journal "
                "et compare chaque vue au résultat : les chiffres affichés doivent découler du journal."
            }
            @match &latest {
                None => p { "Aucune vérification n'a encore été lancée." },
                Some(v) => (verification(v)),
            }
            @if !latest.as_ref().is_some_and(Verification::running) {
                form method="post" action=(VERIFY) {
                    (csrf_field(&context.csrf))
                    button type="submit" class="primary" { "Lancer une vérification" }
                }
            }
        }
    };
    Ok(ok(page("Contrôle", Some(&context.nav()), content)))
}

fn verification(v: &Verification) -> Markup {
    let (step, label) = match v.phase {
        Phase::Chain => (1, "Étape 1 sur 2 : vérification de la chaîne d'empreintes…"),
        Phase::Projections => (
            2,
            "Étape 2 sur 2 : rejeu du journal et comparaison des vues…",
        ),
        Phase::Done | Phase::Failed => (3, "Terminée"),
    };
    html! {
        dl class="summary" {
            dt { "Lancée" }
            dd { "le " (date_time(v.started_at)) @if let Some(by) = &v.started_by { " par " (by) } }
            @if let Some(at) = v.finished_at {
                dt { "Terminée" } dd { "le " (date_time(at)) }
            }
            @if let Some(checked) = v.checked {
                dt { "Événements vérifiés" } dd { (checked) }
            }
        }
        @if v.running() {
            p role="status" {
                label for="avancement" { (label) }
                " "
                progress id="avancement" max="2" value=(step - 1) { (step - 1) " sur 2" }
            }
            p { a href=(PATH) { "Actualiser" } }
        } @else if v.phase == Phase::Failed {
            p class="alert" role="alert" {
                "La vérification n'a pas abouti : " (v.error.as_deref().unwrap_or("erreur inconnue")) "."
            }
        } @else if v.intact() {
            p class="verdict-ok" role="status" {
                "✓ Journal intact : la chaîne d'empreintes est entière et chaque vue est égale à son rejeu."
            }
        } @else {
            div class="alert" role="alert" {
                p { strong { "✗ Le journal ne correspond plus à ce qui a été enregistré." } }
                ul {
                    @for (what, positions) in [
                        ("Événements modifiés", &v.changed),
                        ("Événements supprimés", &v.removed),
                        ("Événements ajoutés hors du service", &v.inserted),
                    ] {
                        @if !positions.is_empty() {
                            li {
                                (what) " (positions) : "
                                @for (i, p) in positions.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(format!("{EVENTS}?apres={}", p - 1)) { (p) }
                                }
                            }
                        }
                    }
                    @for d in v.differences.iter().filter(|d| d.differing_rows > 0) {
                        li { "Vue " code { (d.table) } " : " (d.differing_rows) " ligne(s) différente(s) du rejeu" }
                    }
                }
            }
        }
    }
}

pub async fn start_verification(
    State(state): State<Cantine>,
    caller: Caller,
) -> StaffResult<Response> {
    audit_verification::start(&state, &caller).await?;
    Ok(see_other(&format!("{PATH}#verification")))
}

#[derive(Deserialize, Default)]
pub struct EventsQuery {
    pub du: Option<String>,
    pub au: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub reservation: Option<String>,
    pub famille: Option<String>,
    pub apres: Option<i64>,
}

fn filled(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

pub async fn events(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let mut problems = Vec::new();
    let mut day = |text: &Option<String>, what: &str| {
        filled(text).and_then(|t| match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(format!("{what} : date invalide, ignorée."));
                None
            }
        })
    };
    let from = day(&query.du, "Du");
    let to = day(&query.au, "Au");
    let family_id = match filled(&query.famille) {
        None => None,
        Some(text) => match Uuid::parse_str(text) {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push("Famille : donnez l'identifiant de la famille (sa fiche l'affiche), filtre ignoré.".to_string());
                None
            }
        },
    };
    let reservation = filled(&query.reservation);
    let aggregate_id = match reservation {
        None => None,
        Some(text) => Some(
            audit::reservation_aggregate(&state, text)
                .await?
                .unwrap_or_else(|| text.to_string()),
        ),
    };
    let filter = LogFilter {
        from,
        to,
        event_type: filled(&query.event_type).map(str::to_string),
        aggregate_id,
        family_id,
    };
    let after = query.apres.unwrap_or(0);
    let log = audit::log_page(&state, &filter, after).await?;
    let keep = |name: &str, value: Option<&str>| {
        value
            .map(|v| format!("&{name}={}", urlencoding(v)))
            .unwrap_or_default()
    };
    let filters = format!(
        "{}{}{}{}{}",
        keep("du", filled(&query.du)),
        keep("au", filled(&query.au)),
        keep("type", filled(&query.event_type)),
        keep("reservation", reservation),
        keep("famille", filled(&query.famille)),
    );
    let content = html! {
        p { a href=(PATH) { "← Contrôle" } }
        form class="filters" method="get" action=(EVENTS) {
            p { label for="du" { "Du" } input id="du" name="du" type="date" value=[filled(&query.du)]; }
            p { label for="au" { "Au" } input id="au" name="au" type="date" value=[filled(&query.au)]; }
            p {
                label for="type" { "Type d'événement" }
                select id="type" name="type" {
                    option value="" { "Tous" }
                    @for t in &log.event_types {
                        option value=(t) selected[filled(&query.event_type) == Some(t.as_str())] { (t) }
                    }
                }
            }
            p {
                label for="reservation" { "Réservation (numéro ou identifiant)" }
                input id="reservation" name="reservation" type="text" value=[reservation];
            }
            p {
                label for="famille" { "Famille (identifiant)" }
                input id="famille" name="famille" type="text" value=[filled(&query.famille)];
            }
            p { button type="submit" class="primary" { "Afficher" } }
        }
        @for problem in &problems {
            p class="alert" role="alert" { (problem) }
        }
        @if log.events.is_empty() {
            p { "Aucun événement ne correspond." }
        } @else {
            p { (log.events.len()) " événement(s) à partir de la position " (log.events[0].position) "." }
            div class="scroll" {
                table class="stack audit-log" {
                    caption { "Journal des événements" }
                    thead {
                        tr {
                            th scope="col" { "Position" }
                            th scope="col" { "Enregistré" }
                            th scope="col" { "Type" }
                            th scope="col" { "Agrégat" }
                            th scope="col" { "Auteur" }
                            th scope="col" { "Détail" }
                        }
                    }
                    tbody {
                        @for e in &log.events {
                            tr {
                                th scope="row" data-label="Position" { (e.position) }
                                td data-label="Enregistré" { (date_time(e.recorded_at)) }
                                td data-label="Type" { (e.event_type) " " small { "v" (e.event_version) } }
                                td data-label="Agrégat" {
                                    (e.aggregate_type) " " code class="id" { (e.aggregate_id) } " n° " (e.sequence)
                                }
                                td data-label="Auteur" {
                                    (e.metadata["actor_role"].as_str().unwrap_or("—"))
                                }
                                td data-label="Détail" {
                                    details {
                                        summary { "Contenu, métadonnées, empreinte" }
                                        p { "Empreinte de chaînage : " code class="id" { (e.hash.as_deref().unwrap_or("pas encore scellé")) } }
                                        p { "Métadonnées :" }
                                        pre { (serde_json::to_string_pretty(&e.metadata).unwrap_or_default()) }
                                        p { "Contenu :" }
                                        pre { (serde_json::to_string_pretty(&e.payload).unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav aria-label="Pages du journal" class="pager" {
            @if after > 0 { a href=(format!("{EVENTS}?apres=0{filters}")) { "← Début" } " " }
            @if let Some(next) = log.next_after {
                a href=(format!("{EVENTS}?apres={next}{filters}")) { "Page suivante →" }
            }
        }
    };
    Ok(ok(page(
        "Journal des événements",
        Some(&context.nav()),
        content,
    )))
}

/// Enough of percent-encoding for the filters' values in a link.
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct LoginsQuery {
    pub avant: Option<i64>,
}

const LOGIN_PAGE: i64 = 50;

pub async fn logins(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LoginsQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let mut attempts = audit::login_log(&state, query.avant, Some(LOGIN_PAGE + 1)).await?;
    let more = attempts.len() as i64 > LOGIN_PAGE;
    attempts.truncate(LOGIN_PAGE as usize);
    let content = html! {
        p { a href=(PATH) { "← Contrôle" } }
        @if attempts.is_empty() {
            p { "Aucune tentative de connexion." }
        } @else {
            div class="scroll" {
                table class="stack" {
                    caption { "Journal des connexions, les plus récentes d'abord" }
                    thead {
                        tr {
                            th scope="col" { "Quand" }
                            th scope="col" { "Identifiant" }
                            th scope="col" { "D'où" }
                            th scope="col" { "Résultat" }
                        }
                    }
                    tbody {
                        @for a in &attempts {
                            tr {
                                th scope="row" data-label="Quand" { (date_time(a.at)) }
                                td data-label="Identifiant" { (a.login.as_deref().unwrap_or("—")) }
                                td data-label="D'où" { (a.client) }
                                td data-label="Résultat" { (login_result(&a.result)) }
                            }
                        }
                    }
                }
            }
        }
        nav aria-label="Pages du journal des connexions" class="pager" {
            @if query.avant.is_some() { a href=(LOGINS) { "← Les plus récentes" } " " }
            @if more {
                @if let Some(last) = attempts.last() {
                    a href=(format!("{LOGINS}?avant={}", last.id)) { "Plus anciennes →" }
                }
            }
        }
    };
    Ok(ok(page(
        "Journal des connexions",
        Some(&context.nav()),
        content,
    )))
}

fn login_result(result: &str) -> &str {
    match result {
        "success" => "✓ Connecté",
        "wrong_password" => "Mot de passe erroné",
        "unknown_login" => "Identifiant inconnu",
        "no_password" => "Pas encore de mot de passe",
        "locked" => "🔒 Compte verrouillé",
        "disabled" => "Compte désactivé",
        "throttled" => "Trop de tentatives (ralenti)",
        other => other,
    }
}
