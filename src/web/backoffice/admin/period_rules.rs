//! A period's rules as the back office shows them: the same list, in the same words, as the
//! family portal's step 5 (`portal::booking::rules`), drawn from the application's typed
//! period (`app::administration::periods::Period`) so that the back office needs nothing of
//! the portal's or the API's.

use maud::{html, Markup};

use crate::app::administration::periods::Period;
use crate::web::pages::format::{date, euros, payment_mode};

pub fn rules(period: &Period) -> Markup {
    let days: Vec<&str> = period
        .rules
        .opening_days
        .iter()
        .map(|d| d.french_name())
        .collect();
    html! {
        dl class="rules" {
            dt { "Établissement" } dd { (period.restaurant_name) }
            dt { "Période" } dd { (period.activity) " – " (period.label) }
            dt { "Dates" } dd { "Du " (date(period.rules.from)) " au " (date(period.rules.to)) }
            dt { "Jours d'ouverture" } dd { (days.join(", ")) }
            dt { "Service" } dd {
                (period.service.label) " (" (period.service.start) " – " (period.service.end) ")"
            }
            dt { "Prix du repas" } dd { (euros(period.unit_price)) }
            dt { "Pour réserver" } dd { (period.booking_rule()) "." }
            dt { "Pour annuler" } dd { (period.cancellation_rule()) "." }
            dt { "Paiement" } dd { (payment_mode(&period.payment)) }
            @if let Some(open) = period.rules.bookings_open_at {
                dt { "Ouverture des réservations" }
                dd { (open.format("%d/%m/%Y à %H:%M")) }
            }
            @if !period.rules.closures.is_empty() {
                dt { "Fermetures" }
                dd {
                    ul {
                        @for c in &period.rules.closures {
                            @if c.from == c.to {
                                li { (c.label) " : le " (date(c.from)) }
                            } @else {
                                li { (c.label) " : du " (date(c.from)) " au " (date(c.to)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
