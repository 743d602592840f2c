//! The form of a new booking period on `/gestion/periodes`: its dates, opening days, service,
//! booking cut-off, payment mode, price and capacity, given to
//! `app::administration::periods::create`, whose refusals show next to the field they concern.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use uuid::Uuid;

use super::form::{self, input, select, Errors};
use super::periods::{list_page, PATH};
use crate::app::administration::periods::{self, NewPeriod};
use crate::app::administration::restaurants::Restaurant;
use crate::app::{AppError, Cantine};
use crate::domain::period::{
    BookingCutoff, LocalTime, PaymentMode, PeriodRules, ServiceHours, Weekday,
};
use crate::web::extract::{ApiForm, Caller};
use crate::web::pages::layout::csrf_field;

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

const BAD_TIME: &str = "Heure invalide : écrivez-la hh:mm, par exemple 12:00.";

/// The form as typed (checkboxes are present when ticked).
pub struct PeriodForm(pub HashMap<String, String>);

impl PeriodForm {
    /// An empty form with the usual values of a school canteen.
    pub fn blank() -> Self {
        let defaults = [
            ("activite", "CANTINE SCOLAIRE"),
            ("service", "REPAS"),
            ("debut_service", "12:00"),
            ("fin_service", "13:00"),
            ("jour-mon", "oui"),
            ("jour-tue", "oui"),
            ("jour-thu", "oui"),
            ("jour-fri", "oui"),
            ("feries", "oui"),
            ("delai", "semaine"),
            ("delai_jour", "tue"),
            ("delai_nombre", "2"),
            ("delai_heure", "09:30"),
            ("paiement", "prepaye"),
            ("attente", "60"),
        ];
        PeriodForm(
            defaults
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("").trim()
    }

    fn ticked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

pub fn section(
    restaurants: &[Restaurant],
    values: &PeriodForm,
    errors: &Errors,
    csrf: &str,
) -> Markup {
    let restaurant_options: Vec<(String, String)> = restaurants
        .iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();
    let restaurant_options: Vec<(&str, &str)> = restaurant_options
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    let weekday_options: Vec<(&str, &str)> = WEEKDAYS
        .iter()
        .map(|(day, value)| (*value, day.french_name()))
        .collect();
    let days_error = errors.get("jours");
    let v = |name: &str| values.get(name).to_string();
    html! {
        section aria-labelledby="nouvelle-periode" {
            h2 id="nouvelle-periode" { "Créer une période" }
            @if restaurants.is_empty() {
                p { "Créez d'abord un restaurant." }
            } @else {
                (form::refused(errors, "La période n'a pas été créée"))
                form method="post" action=(form::action(PATH, "nouvelle-periode")) {
                    (csrf_field(csrf))
                    (select(("", "restaurant"), "Restaurant", &restaurant_options, values.get("restaurant"), errors))
                    (input(("", "activite"), "Activité", "text", &v("activite"), errors, None))
                    (input(("", "libelle"), "Nom de la période", "text", &v("libelle"), errors,
                        Some("Par exemple : Restauration Le Repausset 2017-2018.")))
                    fieldset class="row" {
                        legend { "Dates" }
                        (input(("", "du"), "Du", "date", &v("du"), errors, None))
                        (input(("", "au"), "Au (inclus)", "date", &v("au"), errors, None))
                    }
                    fieldset aria-describedby=[days_error.map(|_| "jours-erreur")] {
                        legend { "Jours d'ouverture" }
                        @if let Some(e) = days_error {
                            p id="jours-erreur" class="field-error" { (e) }
                        }
                        @for (day, value) in WEEKDAYS {
                            @let id = format!("jour-{value}");
                            p class="field checkbox" {
                                input id=(id) name=(id) type="checkbox" value="oui" checked[values.ticked(&id)];
                                " " label for=(id) class="inline" { (day.french_name()) }
                            }
                        }
                        p class="field checkbox" {
                            input id="feries" name="feries" type="checkbox" value="oui" checked[values.ticked("feries")];
                            " " label for="feries" class="inline" { "Fermé les jours fériés" }
                        }
                    }
                    fieldset class="row" {
                        legend { "Service" }
                        (input(("", "service"), "Nom du service", "text", &v("service"), errors, None))
                        (input(("", "debut_service"), "Début", "time", &v("debut_service"), errors, None))
                        (input(("", "fin_service"), "Fin", "time", &v("fin_service"), errors, None))
                    }
                    fieldset {
                        legend { "Délai de réservation (et d'annulation)" }
                        (select(("", "delai"), "Les familles réservent", &[
                            ("semaine", "avant un jour de la semaine précédente"),
                            ("jours", "un nombre de jours avant le repas"),
                        ], values.get("delai"), errors))
                        div class="row" {
                            (select(("", "delai_jour"), "Jour de la semaine précédente", &weekday_options, values.get("delai_jour"), errors))
                            (input(("", "delai_nombre"), "ou nombre de jours avant le repas", "text", &v("delai_nombre"), errors, None))
                            (input(("", "delai_heure"), "Heure limite", "time", &v("delai_heure"), errors, None))
                        }
                    }
                    fieldset {
                        legend { "Paiement" }
                        (select(("", "paiement"), "Mode de paiement", &[
                            ("prepaye", "en ligne, après confirmation (prépayé)"),
                            ("fin_de_mois", "facturé en fin de mois"),
                        ], values.get("paiement"), errors))
                        (input(("", "attente"), "Délai pour payer en ligne (minutes)", "text", &v("attente"), errors,
                            Some("Passé ce délai, une réservation non payée est annulée et ses places libérées.")))
                    }
                    div class="row" {
                        (input(("", "prix"), "Prix du repas (€)", "text", &v("prix"), errors,
                            Some("Le prix sans grille selon le quotient familial.")))
                        (input(("", "capacite"), "Capacité (places par jour)", "text", &v("capacite"), errors,
                            Some("Vide : celle du restaurant.")))
                    }
                    p { button type="submit" class="primary" { "Créer la période" } }
                }
            }
        }
    }
}

/// The form's values as a new period, or the errors of what does not parse.
fn request(values: &PeriodForm) -> Result<NewPeriod, Errors> {
    let mut errors = Errors::default();
    let mut note = |field: &str, message: &str| errors.add(field, message);
    let restaurant_id = Uuid::parse_str(values.get("restaurant"))
        .map_err(|_| note("restaurant", "Choisissez un restaurant."))
        .ok();
    let from = form::date(values.get("du")).map_err(|e| note("du", e)).ok();
    let to = form::date(values.get("au")).map_err(|e| note("au", e)).ok();
    let mut time = |field: &str| {
        let parsed = LocalTime::parse(values.get(field));
        if parsed.is_none() {
            note(field, BAD_TIME);
        }
        parsed
    };
    let start = time("debut_service");
    let end = time("fin_service");
    let cutoff_time = time("delai_heure");
    let opening_days: Vec<Weekday> = WEEKDAYS
        .iter()
        .filter(|(_, value)| values.ticked(&format!("jour-{value}")))
        .map(|(day, _)| *day)
        .collect();
    let booking_cutoff = match (values.get("delai"), cutoff_time) {
        (_, None) => None,
        ("jours", Some(time)) => match values.get("delai_nombre").parse::<u32>() {
            Ok(days) => Some(BookingCutoff::DaysBefore { days, time }),
            Err(_) => {
                note("delai_nombre", form::BAD_NUMBER);
                None
            }
        },
        (_, Some(time)) => WEEKDAYS
            .iter()
            .find(|(_, value)| *value == values.get("delai_jour"))
            .map(|(weekday, _)| BookingCutoff::WeekdayOfPreviousWeek {
                weekday: *weekday,
                time,
            }),
    };
    let payment = if values.get("paiement") == "fin_de_mois" {
        Some(PaymentMode::Postpaid)
    } else {
        values
            .get("attente")
            .parse::<u32>()
            .map(|hold_minutes| PaymentMode::Prepaid { hold_minutes })
            .map_err(|_| note("attente", form::BAD_NUMBER))
            .ok()
    };
    let unit_price = form::amount(values.get("prix"))
        .map_err(|e| note("prix", e))
        .ok();
    let capacity = match form::whole_number(values.get("capacite")) {
        Ok(None) => Some(None),
        Ok(Some(n)) => i32::try_from(n).ok().map(Some),
        Err(_) => None,
    };
    if capacity.is_none() {
        note("capacite", form::BAD_NUMBER);
    }
    match (
        restaurant_id,
        from,
        to,
        start,
        end,
        booking_cutoff,
        payment,
        unit_price,
        capacity,
    ) {
        (
            Some(restaurant_id),
            Some(from),
            Some(to),
            Some(start),
            Some(end),
            Some(booking_cutoff),
            Some(payment),
            Some(unit_price),
            Some(capacity),
        ) if !errors.any() => Ok(NewPeriod {
            restaurant_id,
            activity: values.get("activite").to_string(),
            label: values.get("libelle").to_string(),
            service: ServiceHours {
                label: values.get("service").to_string(),
                start,
                end,
            },
            rules: PeriodRules {
                from,
                to,
                opening_days,
                closures: Vec::new(),
                booking_cutoff,
                cancellation_cutoff: None,
                bookings_open_at: None,
            },
            public_holidays: values.ticked("feries"),
            payment,
            unit_price,
            capacity,
        }),
        _ => Err(errors),
    }
}

/// Where a refusal of `periods::create` belongs, in French.
fn period_error(e: &AppError) -> Option<(&'static str, String)> {
    let detail = e.to_string();
    let found = match e.code() {
        "empty_field" if form::names_field(e, "service.label") => ("service", None),
        "empty_field" if form::names_field(e, "activity") => ("activite", None),
        "empty_field" => ("libelle", None),
        "not_found" => ("restaurant", Some("Ce restaurant n'existe plus.")),
        "invalid_period" if detail.contains("service must end") => (
            "fin_service",
            Some("Le service doit finir après avoir commencé."),
        ),
        "invalid_period" if detail.contains("`from`") => {
            ("au", Some("La fin de la période est avant son début."))
        }
        "invalid_period" if detail.contains("opening day") => {
            ("jours", Some("Cochez au moins un jour d'ouverture."))
        }
        "invalid_period" if detail.contains("unit_price") => (
            "prix",
            Some("Un prix est un montant positif d'au plus deux décimales (par exemple 4,15)."),
        ),
        "invalid_period" if detail.contains("capacity") => (
            "capacite",
            Some("La capacité est un nombre entier de places, zéro ou plus."),
        ),
        "invalid_period" if detail.contains("cut-off") => (
            "delai_nombre",
            Some("Un délai de plus d'un an avant le repas n'en est pas un."),
        ),
        "invalid_period" if detail.contains("hold_minutes") => (
            "attente",
            Some("Le délai pour payer va de 1 minute à 7 jours (10080 minutes)."),
        ),
        _ => return None,
    };
    let (field, message) = found;
    Some((
        field,
        message.map_or_else(|| form::french(e), str::to_string),
    ))
}

pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(fields): ApiForm<HashMap<String, String>>,
) -> crate::web::backoffice::error::StaffResult<Response> {
    let values = PeriodForm(fields);
    let errors = match request(&values) {
        Err(errors) => errors,
        Ok(new) => match periods::create(&state, &caller, new).await {
            Ok(id) => return Ok(form::done(&format!("{PATH}/{id}?fait=creee"))),
            Err(e) => {
                let (field, message) = period_error(&e).ok_or(e)?;
                Errors::one(field, message)
            }
        },
    };
    list_page(
        &state,
        &caller,
        None,
        (&values, &errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
