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

/// Loads both guides' demo into one town on an empty database (the Carcassonne restaurant run
/// by another issuer): what the single-town install and the browser walks use. Answers whether
/// it loaded anything. `cantine serve` on a fresh database makes two towns instead
/// ([`load_town`]).
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
    camargue_restaurants(pool, organisation, now).await?;
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
        Some((CARCASSONNE.0, CARCASSONNE.1)),
    )
    .await?;
    carcassonne_period(pool, carcassonne, now, None).await?;
    let admin = families_and_staff(pool, organisation, &CAMARGUE_FAMILIES, &LOGINS).await?;
    public_face(pool, organisation, admin, now, &CAMARGUE_CONTACT).await?;
    Ok(true)
}

/// The towns of the two guides, each on its own host name with its own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoTown {
    /// The first guide: six restaurants, prepaid, a one-hour hold.
    Camargue,
    /// The second guide: one restaurant billed later, bookings opening on 15 July.
    Carcassonne,
}

impl DemoTown {
    pub const ALL: [DemoTown; 2] = [DemoTown::Camargue, DemoTown::Carcassonne];

    pub fn host(self) -> &'static str {
        match self {
            DemoTown::Camargue => "camargue.localhost",
            DemoTown::Carcassonne => "carcassonne.localhost",
        }
    }

    /// The organisation's name and address.
    pub fn identity(self) -> (&'static str, &'static str) {
        match self {
            DemoTown::Camargue => (
                "Communauté de communes Terre de Camargue",
                "26 Quai des Croisades, 30220 AIGUES-MORTES",
            ),
            DemoTown::Carcassonne => CARCASSONNE,
        }
    }

    pub fn logins(self) -> &'static [(&'static str, &'static str, Role)] {
        match self {
            DemoTown::Camargue => &LOGINS,
            DemoTown::Carcassonne => &CARCASSONNE_LOGINS,
        }
    }
}

/// Loads one town's demo into its (empty) schema.
pub async fn load_town(
    pool: &PgPool,
    organisation: &Organisation,
    town: DemoTown,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    match town {
        DemoTown::Camargue => {
            camargue_restaurants(pool, organisation, now).await?;
            let admin = families_and_staff(pool, organisation, &CAMARGUE_FAMILIES, &LOGINS).await?;
            public_face(pool, organisation, admin, now, &CAMARGUE_CONTACT).await?;
        }
        DemoTown::Carcassonne => {
            let restaurant = db::reference::insert_restaurant(
                pool,
                organisation.id,
                "Restaurant scolaire Jean Jaurès",
                150,
            )
            .await?;
            // The second guide: bookings for the school year open on 15 July at 8:00.
            let (from, _) = school_year(now);
            let opening = date(from.year(), 7, 15).and_hms_opt(8, 0, 0);
            carcassonne_period(pool, restaurant, now, opening).await?;
            let admin = families_and_staff(
                pool,
                organisation,
                &CARCASSONNE_FAMILIES,
                &CARCASSONNE_LOGINS,
            )
            .await?;
            public_face(pool, organisation, admin, now, &CARCASSONNE_CONTACT).await?;
        }
    }
    Ok(())
}

const CARCASSONNE: (&str, &str) = (
    "Ville de Carcassonne – Régie de la restauration scolaire",
    "32 rue Aimé Ramond, 11000 Carcassonne",
);

/// Carcassonne's demo logins. Demo only, like [`LOGINS`].
pub const CARCASSONNE_LOGINS: [(&str, &str, Role); 6] = [
    ("famille.garcia@example.fr", "cantine-garcia", Role::Family),
    ("admin", "carcassonne-admin", Role::Admin),
    ("cuisine", "carcassonne-cuisine", Role::Kitchen),
    ("finances", "carcassonne-finances", Role::Finance),
    ("audit", "carcassonne-audit", Role::Auditor),
    ("accueil", "carcassonne-accueil", Role::Desk),
];

type DemoFamily = (
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

const CAMARGUE_FAMILIES: [DemoFamily; 2] = [
    (
        "DUPONT",
        &[
            ("Hervé", "DUPONT", "standard"),
            ("Léa", "DUPONT", "vegetarian"),
        ],
    ),
    ("MARTIN", &[("Inès", "MARTIN", "no_pork")]),
];

const CARCASSONNE_FAMILIES: [DemoFamily; 1] = [("GARCIA", &[("Lucas", "GARCIA", "standard")])];

/// Phone, contact e-mail, site.
type Contact = (&'static str, &'static str, &'static str);

const CAMARGUE_CONTACT: Contact = (
    "04.66.71.71.55",
    "restauration.scolaire@example.fr",
    "https://www.terredecamargue.fr",
);

const CARCASSONNE_CONTACT: Contact = (
    "04.68.77.71.11",
    "regie.restauration@example.fr",
    "https://www.carcassonne.org",
);

/// The six restaurants of the first guide, each with the school year's prepaid period.
async fn camargue_restaurants(
    pool: &PgPool,
    organisation: &Organisation,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
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
    Ok(())
}

/// The second guide's period: billed later at 4.97 €, booked two days ahead.
async fn carcassonne_period(
    pool: &PgPool,
    restaurant: uuid::Uuid,
    now: DateTime<Utc>,
    bookings_open_at: Option<chrono::NaiveDateTime>,
) -> anyhow::Result<()> {
    let (from, to) = school_year(now);
    db::reference::insert_period(
        pool,
        NewPeriod {
            restaurant_id: restaurant,
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
                bookings_open_at,
            },
            payment: PaymentMode::Postpaid,
            unit_price: dec!(4.97),
            capacity: 150,
        },
    )
    .await?;
    Ok(())
}

/// The families (each with the next family login) and the staff accounts; answers the admin.
async fn families_and_staff(
    pool: &PgPool,
    organisation: &Organisation,
    families: &[DemoFamily],
    logins: &[(&str, &str, Role)],
) -> anyhow::Result<uuid::Uuid> {
    let family_logins = logins.iter().filter(|(_, _, role)| *role == Role::Family);
    for ((name, children), (login, password, _)) in families.iter().zip(family_logins) {
        let family = db::reference::insert_family(pool, organisation.id, name).await?;
        for (first, last, option) in children.iter() {
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
    for (login, password, role) in logins.iter().filter(|(_, _, role)| *role != Role::Family) {
        let id =
            db::accounts::insert_user(pool, login, Some(&hash_password(password)?), *role, None)
                .await?;
        if *role == Role::Admin {
            admin = Some(id);
        }
    }
    admin.ok_or_else(|| anyhow::anyhow!("a demo town needs an admin"))
}

/// What the first guide's visitor page shows: the community's phone, a contact address and its
/// site, and the two documents to download.
async fn public_face(
    pool: &PgPool,
    organisation: &Organisation,
    admin: uuid::Uuid,
    now: DateTime<Utc>,
    (phone, email, site): &Contact,
) -> anyhow::Result<()> {
    db::town::update_contact(pool, organisation.id, phone, email, site).await?;
    let documents = [
        (
            "tariffs",
            "Délibération des tarifs",
            "deliberation-tarifs.pdf",
            &[
                "Document de démonstration.",
                "Le prix d'un repas suit le quotient familial de la famille.",
                "Sans quotient connu, le prix de la période s'applique.",
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

/// Whether the first of these demo accounts exists in the town of `pool` (to print the logins
/// on every start, not only the first).
pub async fn present_in(pool: &PgPool, logins: &[(&str, &str, Role)]) -> anyhow::Result<bool> {
    let Some((login, _, _)) = logins.first() else {
        return Ok(false);
    };
    Ok(db::accounts::user_by_login(pool, login).await?.is_some())
}

/// Whether nothing has been recorded yet (no organisation): where the demo makes its towns.
pub async fn fresh(pool: &PgPool) -> anyhow::Result<bool> {
    Ok(db::reference::organisation(pool).await?.is_none())
}
