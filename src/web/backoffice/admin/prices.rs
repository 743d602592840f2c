//! A period's prices by quotient familial, on its page: its price lists and the form of a new
//! one (`app::administration::tariffs`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use uuid::Uuid;

use super::form::{self, field, french, input, refused, Errors};
use super::periods::{period_page, Forms, PATH};
use crate::app::administration::periods::Period;
use crate::app::administration::tariffs::{self, NewBracket};
use crate::app::Cantine;
use crate::domain::tariff::PriceList;
use crate::web::backoffice::error::StaffResult;
use crate::web::extract::{ApiForm, ApiPath, Caller};
use crate::web::pages::format::{date, euros};
use crate::web::pages::layout::csrf_field;

/// Brackets with a ceiling the price form offers; the open top bracket comes after them.
const BRACKET_ROWS: usize = 4;

#[derive(Default, Clone)]
pub struct TariffForm {
    pub from: String,
    /// `(ceiling, price)` of each bracket row.
    pub rows: Vec<(String, String)>,
    pub top: String,
}

/// A bracket's range of quotient familial in words.
fn bracket_range(previous: Option<i32>, up_to: Option<i32>) -> String {
    match (previous, up_to) {
        (None, Some(up_to)) => format!("Jusqu'à {up_to} €"),
        (Some(prev), Some(up_to)) => format!("De {} € à {up_to} €", prev + 1),
        (Some(prev), None) => format!("Au-delà de {prev} €"),
        (None, None) => "Toutes les familles".to_string(),
    }
}

pub(super) fn tariff_section(
    path: &str,
    period: &Period,
    lists: &[PriceList],
    today: NaiveDate,
    refused_form: Option<&(TariffForm, Errors)>,
    csrf: &str,
) -> Markup {
    let current = lists.iter().rposition(|l| l.effective_from <= today);
    let blank = (
        TariffForm {
            rows: vec![(String::new(), String::new()); BRACKET_ROWS],
            ..TariffForm::default()
        },
        Errors::default(),
    );
    let (values, errors) = refused_form.unwrap_or(&blank);
    let bracket_error = errors.get("tranches");
    html! {
        section aria-labelledby="prix" {
            h2 id="prix" { "Prix selon le quotient familial" }
            p {
                "Sans grille, ou avant la première, le repas coûte " (euros(period.unit_price))
                ". Une grille ne se modifie pas : pour changer les prix, ajoutez-en une à partir d'une "
                "date plus tardive. Les repas déjà réservés gardent leur prix."
            }
            @if lists.is_empty() {
                p { "Aucune grille de prix pour cette période." }
            }
            @for (i, list) in lists.iter().enumerate() {
                div class="scroll admin" {
                    table class="stack" {
                        caption {
                            "Grille à partir du " (date(list.effective_from))
                            @if Some(i) == current { " – en vigueur aujourd'hui" }
                            @else if list.effective_from > today { " – à venir" }
                            @else { " – remplacée" }
                        }
                        thead { tr {
                            th scope="col" { "Quotient familial" }
                            th scope="col" class="number" { "Prix du repas" }
                        } }
                        tbody {
                            @for (j, b) in list.brackets().iter().enumerate() {
                                @let previous = j.checked_sub(1).and_then(|k| list.brackets()[k].up_to);
                                tr {
                                    th scope="row" data-label="Quotient familial" { (bracket_range(previous, b.up_to)) }
                                    td class="number" data-label="Prix du repas" { (euros(b.unit_price)) }
                                }
                            }
                        }
                    }
                }
            }
            h3 id="nouvelle-grille" { "Ajouter une grille de prix" }
            (refused(errors, "La grille n'a pas été ajoutée"))
            form method="post" action=(form::action(&format!("{path}/tarifs"), "nouvelle-grille")) aria-labelledby="nouvelle-grille" {
                (csrf_field(csrf))
                (input(("", "debut"), "En vigueur à partir du", "date", &values.from, errors, None))
                fieldset aria-describedby=[bracket_error.map(|_| "tranches-erreur")] {
                    legend { "Tranches, du quotient le plus bas au plus haut" }
                    @if let Some(e) = bracket_error {
                        p id="tranches-erreur" class="field-error" { (e) }
                    }
                    p class="note" { "Remplissez autant de lignes que de tranches ; laissez les autres vides." }
                    @for (i, (ceiling, price)) in values.rows.iter().enumerate() {
                        div class="row" {
                            (input(("", &format!("plafond-{i}")), &format!("Tranche {} : quotient jusqu'à (€)", i + 1), "text", ceiling, errors, None))
                            (input(("", &format!("prix-{i}")), &format!("Tranche {} : prix du repas (€)", i + 1), "text", price, errors, None))
                        }
                    }
                    (input(("", "prix-haut"), "Au-delà de la dernière tranche : prix du repas (€)", "text", &values.top, errors, None))
                }
                p { button type="submit" class="primary" { "Ajouter la grille" } }
            }
        }
    }
}

pub async fn add_tariff(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiForm(fields): ApiForm<HashMap<String, String>>,
) -> StaffResult<Response> {
    let values = TariffForm {
        from: field(&fields, "debut").to_string(),
        rows: (0..BRACKET_ROWS)
            .map(|i| {
                (
                    field(&fields, &format!("plafond-{i}")).to_string(),
                    field(&fields, &format!("prix-{i}")).to_string(),
                )
            })
            .collect(),
        top: field(&fields, "prix-haut").to_string(),
    };
    let mut errors = Errors::default();
    let from = form::date(&values.from)
        .map_err(|_| errors.add("debut", form::BAD_DATE))
        .ok();
    let mut brackets = Vec::new();
    for (i, (ceiling, price)) in values.rows.iter().enumerate() {
        if ceiling.is_empty() && price.is_empty() {
            continue;
        }
        let up_to = match form::whole_number(ceiling) {
            Ok(Some(n)) => Some(n),
            Ok(None) => {
                errors.add(
                    format!("plafond-{i}"),
                    "Donnez le quotient le plus haut de la tranche.",
                );
                None
            }
            Err(_) => {
                errors.add(format!("plafond-{i}"), form::BAD_NUMBER);
                None
            }
        };
        let unit_price = form::amount(price)
            .map_err(|_| errors.add(format!("prix-{i}"), form::BAD_AMOUNT))
            .ok();
        if let (Some(up_to), Some(unit_price)) = (up_to, unit_price) {
            brackets.push(NewBracket {
                up_to: Some(up_to),
                unit_price,
            });
        }
    }
    match form::amount(&values.top) {
        Ok(unit_price) => brackets.push(NewBracket {
            up_to: None,
            unit_price,
        }),
        Err(_) => errors.add("prix-haut", form::BAD_AMOUNT),
    }
    if let (Some(from), false) = (from, errors.any()) {
        match tariffs::add_price_list(&state, &caller, id, from, brackets).await {
            Ok(_) => return Ok(form::done(&format!("{PATH}/{id}?fait=tarifs"))),
            Err(e) => match e.code() {
                "tariff_exists" => errors.add("debut", french(&e)),
                "invalid_tariff" => errors.add("tranches", french(&e)),
                _ => return Err(e.into()),
            },
        }
    }
    let forms = Forms {
        tariff: Some((values, errors)),
        ..Forms::default()
    };
    period_page(&state, &caller, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
}
