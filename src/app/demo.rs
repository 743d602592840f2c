//! Demo data loaded on a fresh database: the six Terre de Camargue restaurants of the first
//! guide with the current school year at 4.15 € (prepaid, one-hour hold), one Carcassonne-like
//! billed-later period at 4.97 €, two families and the staff accounts.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal_macros::dec;
use sqlx::PgPool;

use crate::app::accounts::credentials::hash_password;
use crate::db;
use crate::db::reference::{NewPeriod, Organisation};
use crate::domain::account::Role;
use crate::domain::period::{
    BookingCutoff, Closure, LocalTime, PaymentMode, PeriodRules, ServiceHours, Weekday,
};

pub const RESTAURANTS: [&str; 6] = [
    "Restaurant Scolaire Charles Gros",
    "Restaurant Scolaire Chloé Dusfourd",
    "Restaurant Scolaire Eric Tabarly",
    "Restaurant Scolaire Eugénie Deleuze",
    "Restaurant Scolaire Henri Séverin",
    "Restaurant Scolaire Le Repausset",
];

/// Logins printed at start. Demo only: change or remove them on a real deployment.
pub const LOGINS: [(&str, &str, Role); 7] = [
    ("famille.dupont@example.fr", "cantine-dupont", Role::Family),
    ("famille.martin@example.fr", "cantine-martin", Role::Family),
    ("admin", "cantine-admin", Role::Admin),
    ("cuisine", "cantine-cuisine", Role::Kitchen),
    ("finances", "cantine-finances", Role::Finance),
    ("audit", "cantine-audit", Role::Auditor),
    ("accueil", "cantine-accueil", Role::Desk),
];

/// The school year running (or next to start) at `now`.
pub fn school_year(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = now.with_timezone(&Paris).date_naive();
    let start_year = if today.month() >= 8 {
        today.year()
    } else {
        today.year() - 1
    };
    (
        NaiveDate::from_ymd_opt(start_year, 9, 1).expect("1 September"),
        NaiveDate::from_ymd_opt(start_year + 1, 7, 4).expect("4 July"),
    )
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid demo date")
}

/// School holidays near enough to zone C for a demo, plus the public holidays.
fn closures(from: NaiveDate, to: NaiveDate) -> Vec<Closure> {
    let y = from.year();
    let mut closures = vec![
        Closure {
            from: date(y, 10, 19),
            to: date(y, 11, 3),
            label: "Vacances de la Toussaint".into(),
        },
        Closure {
            from: date(y, 12, 20),
            to: date(y + 1, 1, 4),
            label: "Vacances de Noël".into(),
        },
        Closure {
            from: date(y + 1, 2, 15),
            to: date(y + 1, 3, 2),
            label: "Vacances d'hiver".into(),
        },
        Closure {
            from: date(y + 1, 4, 12),
            to: date(y + 1, 4, 27),
            label: "Vacances de printemps".into(),
        },
    ];
    closures.extend(Closure::public_holidays(from, to));
    closures
}

fn time(text: &str) -> LocalTime {
    LocalTime::parse(text).expect("valid demo time")
}

/// Loads the demo on an empty database; answers whether it did.
pub async fn load_if_empty(
    pool: &PgPool,
    organisation: &Organisation,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    if !db::reference::restaurants(pool, organisation.id)
        .await?
        .is_empty()
    {
        return Ok(false);
    }
    let (from, to) = school_year(now);
    let service = ServiceHours {
        label: "REPAS".into(),
        start: time("12:00"),
        end: time("13:00"),
    };
    for name in RESTAURANTS {
        let restaurant = db::reference::insert_restaurant(pool, organisation.id, name, 120).await?;
        let short = name.trim_start_matches("Restaurant Scolaire ");
        db::reference::insert_period(
            pool,
            NewPeriod {
                restaurant_id: restaurant,
                activity: "CANTINE SCOLAIRE".into(),
                label: format!("Restauration {short} {}-{}", from.year(), to.year()),
                service: service.clone(),
                rules: PeriodRules {
                    from,
                    to,
                    opening_days: vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
                    closures: closures(from, to),
                    booking_cutoff: BookingCutoff::WeekdayOfPreviousWeek {
                        weekday: Weekday::Tue,
                        time: time("09:30"),
                    },
                    cancellation_cutoff: None,
                    bookings_open_at: None,
                },
                payment: PaymentMode::Prepaid { hold_minutes: 60 },
                unit_price: dec!(4.15),
                capacity: 120,
            },
        )
        .await?;
    }
    let carcassonne = db::reference::insert_restaurant(
        pool,
        organisation.id,
        "Restaurant scolaire Jean Jaurès (Carcassonne)",
        150,
    )
    .await?;
    // Run by another town than the organisation: its invoices name that town.
    db::reference::update_restaurant(
        pool,
        organisation.id,
        carcassonne,
        None,
        None,
        Some((
            "Ville de Carcassonne – Régie de la restauration scolaire",
            "32 rue Aimé Ramond, 11000 Carcassonne",
        )),
    )
    .await?;
    db::reference::insert_period(
        pool,
        NewPeriod {
            restaurant_id: carcassonne,
            activity: "RESTAURATION SCOLAIRE".into(),
            label: format!("Inscription cantine {}-{}", from.year(), to.year()),
            service: ServiceHours {
                label: "DÉJEUNER".into(),
                start: time("11:45"),
                end: time("13:30"),
            },
            rules: PeriodRules {
                from,
                to,
                opening_days: vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
                closures: closures(from, to),
                booking_cutoff: BookingCutoff::DaysBefore {
                    days: 2,
                    time: time("10:00"),
                },
                cancellation_cutoff: None,
                bookings_open_at: None,
            },
            payment: PaymentMode::Postpaid,
            unit_price: dec!(4.97),
            capacity: 150,
        },
    )
    .await?;
    let families = [
        (
            "DUPONT",
            &[
                ("Hervé", "DUPONT", "standard"),
                ("Léa", "DUPONT", "vegetarian"),
            ][..],
        ),
        ("MARTIN", &[("Inès", "MARTIN", "no_pork")][..]),
    ];
    for ((name, children), (login, password, _)) in families.into_iter().zip(LOGINS) {
        let family = db::reference::insert_family(pool, organisation.id, name).await?;
        for (first, last, option) in children {
            db::reference::insert_child(pool, family, first, last, option).await?;
        }
        db::accounts::insert_user(
            pool,
            login,
            Some(&hash_password(password)?),
            Role::Family,
            Some(family),
        )
        .await?;
    }
    let mut admin = None;
    for (login, password, role) in LOGINS.iter().filter(|(_, _, role)| *role != Role::Family) {
        let id =
            db::accounts::insert_user(pool, login, Some(&hash_password(password)?), *role, None)
                .await?;
        if *role == Role::Admin {
            admin = Some(id);
        }
    }
    if let Some(admin) = admin {
        public_face(pool, organisation, admin, now).await?;
    }
    Ok(true)
}

/// What the first guide's visitor page shows: the community's phone, a contact address and its
/// site, and the two documents to download.
async fn public_face(
    pool: &PgPool,
    organisation: &Organisation,
    admin: uuid::Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    db::town::update_contact(
        pool,
        organisation.id,
        "04.66.71.71.55",
        "restauration.scolaire@example.fr",
        "https://www.terredecamargue.fr",
    )
    .await?;
    let documents = [
        (
            "tariffs",
            "Délibération des tarifs",
            "deliberation-tarifs.pdf",
            &[
                "Document de démonstration.",
                "Le prix d'un repas suit le quotient familial de la famille.",
                "Sans quotient connu, le prix de la période s'applique (4,15 EUR).",
            ][..],
        ),
        (
            "rules",
            "Règlement intérieur des restaurants scolaires",
            "reglement-interieur.pdf",
            &[
                "Document de démonstration.",
                "Les repas se réservent sur le portail famille avant la date limite.",
                "Une réservation non payée dans l'heure est libérée.",
                "Une annulation avant la date limite donne un avoir.",
            ][..],
        ),
    ];
    for (kind, title, file_name, lines) in documents {
        let bytes = super::demo_documents::one_page_pdf(title, lines);
        db::documents::insert(
            pool,
            db::documents::NewDocumentRow {
                id: uuid::Uuid::now_v7(),
                organisation_id: organisation.id,
                title,
                kind,
                file_name,
                content_type: super::documents::PDF,
                bytes: &bytes,
                uploaded_by: admin,
                uploaded_at: now,
            },
        )
        .await?;
    }
    Ok(())
}

/// Whether the demo accounts exist (to print them on every start, not only the first).
pub async fn present(pool: &PgPool) -> anyhow::Result<bool> {
    Ok(db::accounts::user_by_login(pool, LOGINS[0].0)
        .await?
        .is_some())
}
