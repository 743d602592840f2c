//! The staff back office: server-rendered French pages under `/gestion` for the kitchens, the
//! finance office and the town's administrators, served beside the family portal with the same
//! cookie session, stylesheet and CSRF rule. Routes are declared in `web/routes.rs` with
//! `Access::BackOffice(roles)` (checked in `guard.rs`); what the pages show and do comes from the
//! same use cases the API calls (`crate::app`), as in the portal.
//!
//! To add a page: declare its route with the roles of the API routes it mirrors, and, if it is a
//! section of its own, add it to [`SECTIONS`] so that the navigation and the home page offer it
//! to exactly those roles.

pub mod admin;
pub mod audit;
pub mod context;
pub mod day_filter;
pub mod debtors;
pub mod documents;
pub mod error;
pub mod finance;
pub mod guard;
pub mod home;
pub mod kitchen;
pub mod layout;
pub mod own_account;
pub mod refunds;
pub mod roll_call;
pub mod sepa;
pub mod waitlist;

use crate::domain::account::Role;
use crate::web::roles::{ADMIN_ROLES, FINANCE_ROLES, FRONT_DESK_ROLES, KITCHEN_ROLES, STAFF_ROLES};

pub const HOME: &str = crate::web::pages::BACK_OFFICE_HOME;

/// A part of the back office: its entry in the navigation and on the home page.
pub struct Section {
    pub path: &'static str,
    pub label: &'static str,
    /// What the home page says of it.
    pub summary: &'static str,
    /// The same roles as the section's routes: a link is shown only to who may follow it.
    pub roles: &'static [Role],
}

pub const SECTIONS: &[Section] = &[
    Section {
        path: HOME,
        label: "Accueil",
        summary: "",
        roles: STAFF_ROLES,
    },
    Section {
        path: "/gestion/cuisine",
        label: "Effectifs cuisine",
        summary: "Les repas à préparer par jour, restaurant et menu, à imprimer ou à exporter.",
        roles: KITCHEN_ROLES,
    },
    Section {
        path: waitlist::PATH,
        label: "Listes d'attente",
        summary: "Les enfants en liste d'attente des jours complets, par jour et restaurant.",
        roles: KITCHEN_ROLES,
    },
    Section {
        path: "/gestion/finances",
        label: "Finances",
        summary: "Factures, paiements, exports du mois et rapprochement.",
        roles: FINANCE_ROLES,
    },
    Section {
        path: "/gestion/documents",
        label: "Documents",
        summary: "Les documents que les familles téléchargent : règlement, délibération tarifaire.",
        roles: ADMIN_ROLES,
    },
    // The administrators' pages (`admin/`).
    Section {
        path: admin::families::PATH,
        label: "Familles",
        summary: "Les familles et leurs enfants : le dossier de chaque famille (réservations, \
                  factures, solde ; réserver ou annuler pour elle) ; pour l'administration, \
                  créer, modifier, déverrouiller, envoyer le mail « Générer votre mot de passe ».",
        roles: FRONT_DESK_ROLES,
    },
    Section {
        path: admin::staff::PATH,
        label: "Personnel",
        summary: "Les comptes du personnel de la ville : déverrouiller, donner un nouveau mot \
                  de passe.",
        roles: ADMIN_ROLES,
    },
    Section {
        path: admin::town::PATH,
        label: "Commune",
        summary: "Les coordonnées de la commune que montre la page de connexion.",
        roles: ADMIN_ROLES,
    },
    Section {
        path: admin::restaurants::PATH,
        label: "Restaurants",
        summary: "Les restaurants scolaires et leur capacité.",
        roles: ADMIN_ROLES,
    },
    Section {
        path: admin::periods::PATH,
        label: "Périodes",
        summary: "Les périodes de réservation : règles, fermetures, capacités et prix selon le \
                  quotient familial.",
        roles: ADMIN_ROLES,
    },
    Section {
        path: audit::PATH,
        label: "Contrôle",
        summary: "Le journal des événements et des connexions, et la vérification du journal.",
        roles: &[Role::Auditor],
    },
    Section {
        path: own_account::PATH,
        label: "Mon compte",
        summary: "Votre identifiant et votre mot de passe.",
        roles: STAFF_ROLES,
    },
];

/// The sections a role may open, in navigation order.
pub fn sections_for(role: Role) -> impl Iterator<Item = &'static Section> {
    SECTIONS.iter().filter(move |s| s.roles.contains(&role))
}

/// The role in the words of the town's staff.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administration",
        Role::Kitchen => "Cuisine",
        Role::Finance => "Finances",
        Role::Auditor => "Contrôle (audit)",
        Role::Desk => "Accueil des familles",
        Role::Family => "Famille",
    }
}
