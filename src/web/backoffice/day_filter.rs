//! The filter of the pages that show one day, for one restaurant or all (the kitchen's sheet,
//! the waiting lists): reading its query (a mistyped date falls back to today and says so next
//! to the field) and its form.

use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use crate::web::pages::format::date;

#[derive(Deserialize)]
pub struct DayQuery {
    pub date: Option<String>,
    pub restaurant: Option<String>,
}

/// The day and restaurant a page shows.
pub struct DayChoice {
    pub on: NaiveDate,
    /// The date asked for could not be read: `on` is today.
    pub date_error: bool,
    /// The restaurant asked for, if its id could be read (the page decides whether it exists).
    pub restaurant: Option<Uuid>,
}

impl DayQuery {
    pub fn choice(&self, today: NaiveDate) -> DayChoice {
        let asked = self.date.as_deref().filter(|d| !d.is_empty());
        let parsed = asked.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"));
        DayChoice {
            date_error: matches!(parsed, Some(Err(_))),
            on: parsed.and_then(Result::ok).unwrap_or(today),
            restaurant: self
                .restaurant
                .as_deref()
                .and_then(|r| Uuid::parse_str(r).ok()),
        }
    }
}

/// The page's own address for another day, keeping the restaurant.
pub fn day_link(path: &str, on: NaiveDate, restaurant: Option<Uuid>) -> String {
    let restaurant = restaurant.map(|id| id.to_string()).unwrap_or_default();
    format!("{path}?date={on}&restaurant={restaurant}")
}

/// The day and restaurant form; `chosen` is the restaurant shown, `restaurants` the choice.
pub fn form(
    path: &str,
    choice: &DayChoice,
    restaurants: &[(Uuid, &str)],
    chosen: Option<Uuid>,
) -> Markup {
    let on = choice.on;
    html! {
        form class="filters" method="get" action=(path) {
            p {
                label for="date" { "Jour" }
                input id="date" name="date" type="date" value=(on.to_string())
                    aria-describedby=[choice.date_error.then_some("date-erreur")];
                @if choice.date_error {
                    span id="date-erreur" class="field-error" { " Date invalide : écrivez-la jj/mm/aaaa. Voici le " (date(on)) "." }
                }
            }
            p {
                label for="restaurant" { "Restaurant" }
                select id="restaurant" name="restaurant" {
                    option value="" selected[chosen.is_none()] { "Tous les restaurants" }
                    @for (id, name) in restaurants {
                        option value=(id) selected[chosen == Some(*id)] { (name) }
                    }
                }
            }
            p { button type="submit" class="primary" { "Afficher" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(date: Option<&str>, restaurant: Option<&str>) -> DayQuery {
        DayQuery {
            date: date.map(str::to_string),
            restaurant: restaurant.map(str::to_string),
        }
    }

    #[test]
    fn a_mistyped_date_is_today_and_said_an_empty_one_is_today_silently() {
        let today = NaiveDate::from_ymd_opt(2017, 1, 11).unwrap();
        let asked = query(Some("2017-01-23"), None).choice(today);
        assert_eq!(
            (asked.on, asked.date_error),
            (NaiveDate::from_ymd_opt(2017, 1, 23).unwrap(), false)
        );
        let wrong = query(Some("23/01/2017"), Some("pas-un-id")).choice(today);
        assert_eq!(
            (wrong.on, wrong.date_error, wrong.restaurant),
            (today, true, None)
        );
        let empty = query(Some(""), None).choice(today);
        assert_eq!((empty.on, empty.date_error), (today, false));
        let id = Uuid::now_v7();
        assert_eq!(
            query(None, Some(&id.to_string())).choice(today).restaurant,
            Some(id)
        );
        assert_eq!(
            day_link("/gestion/attente", today, Some(id)),
            format!("/gestion/attente?date=2017-01-11&restaurant={id}")
        );
        assert_eq!(
            day_link("/x", today, None),
            "/x?date=2017-01-11&restaurant="
        );
    }
}
