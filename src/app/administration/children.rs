//! A family's children: names and meal option. Days already booked keep the option they were
//! booked with (it is in their events): the kitchen's past sheets do not move.

use uuid::Uuid;

use super::{log_change, non_empty};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::meal_option::MealOption;

/// A child as the administrators edit it.
pub type Child = db::reference::ChildDetail;

/// The meal option as the API and the forms spell it, or the refusal.
pub fn meal_option(text: &str) -> AppResult<MealOption> {
    MealOption::parse(text).ok_or_else(|| {
        AppError::rule(
            "invalid_meal_option",
            "meal_option is one of standard, vegetarian, no_pork",
        )
    })
}

/// A new child, checked: names trimmed and not empty, a known meal option (standard when none).
pub struct NewChild {
    pub first_name: String,
    pub last_name: String,
    pub meal_option: MealOption,
}

impl NewChild {
    /// Checks what was typed, in the order the refusals are reported.
    pub fn parse(first_name: &str, last_name: &str, meal: Option<&str>) -> AppResult<Self> {
        let first_name = non_empty("first_name", first_name)?.to_string();
        let last_name = non_empty("last_name", last_name)?.to_string();
        let meal_option = meal.map_or(Ok(MealOption::Standard), meal_option)?;
        Ok(NewChild {
            first_name,
            last_name,
            meal_option,
        })
    }
}

/// What changes of a child (`None`: unchanged), checked like a new child.
pub struct ChildChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub meal_option: Option<MealOption>,
}

impl ChildChange {
    pub fn parse(
        first_name: Option<&str>,
        last_name: Option<&str>,
        meal: Option<&str>,
    ) -> AppResult<Self> {
        let name = |field, value: Option<&str>| -> AppResult<Option<String>> {
            value
                .map(|v| non_empty(field, v).map(str::to_string))
                .transpose()
        };
        Ok(ChildChange {
            first_name: name("first_name", first_name)?,
            last_name: name("last_name", last_name)?,
            meal_option: meal.map(meal_option).transpose()?,
        })
    }
}

async fn known_family(cantine: &Cantine, family_id: Uuid) -> AppResult<()> {
    if !db::reference::family_exists(&cantine.pool, cantine.organisation.id, family_id).await? {
        return Err(AppError::not_found("family"));
    }
    Ok(())
}

pub async fn create(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    child: NewChild,
) -> AppResult<Uuid> {
    known_family(cantine, family_id).await?;
    let id = db::reference::insert_child(
        &cantine.pool,
        family_id,
        &child.first_name,
        &child.last_name,
        child.meal_option.as_str(),
    )
    .await?;
    log_change(caller, "child added", id);
    Ok(id)
}

/// Corrects a child's name or changes its meal option.
pub async fn edit(
    cantine: &Cantine,
    caller: &Caller,
    (family_id, child_id): (Uuid, Uuid),
    change: ChildChange,
) -> AppResult<Child> {
    known_family(cantine, family_id).await?;
    let row = db::reference::update_child(
        &cantine.pool,
        family_id,
        child_id,
        db::reference::ChildChange {
            first_name: change.first_name.as_deref(),
            last_name: change.last_name.as_deref(),
            meal_option: change.meal_option.map(MealOption::as_str),
        },
    )
    .await?
    .ok_or_else(|| AppError::not_found("child"))?;
    log_change(caller, "child edited", child_id);
    Ok(row)
}

/// The family's children, by first name.
pub async fn of_family(cantine: &Cantine, family_id: Uuid) -> AppResult<Vec<Child>> {
    Ok(db::reference::children_of(&cantine.pool, family_id).await?)
}
