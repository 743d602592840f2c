//! A child's meal option: a menu choice, nothing more (no health data).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealOption {
    Standard,
    Vegetarian,
    NoPork,
}

impl MealOption {
    pub const ALL: [MealOption; 3] = [
        MealOption::Standard,
        MealOption::Vegetarian,
        MealOption::NoPork,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MealOption::Standard => "standard",
            MealOption::Vegetarian => "vegetarian",
            MealOption::NoPork => "no_pork",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// As the kitchen sheet and the family's pages name it.
    pub fn french(self) -> &'static str {
        match self {
            MealOption::Standard => "Standard",
            MealOption::Vegetarian => "Végétarien",
            MealOption::NoPork => "Sans porc",
        }
    }
}

/// A meal option read back from storage that the domain does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown meal option {0:?}")]
pub struct UnknownMealOption(pub String);

/// The children table keeps the option as its text (its check allows only these); reading it
/// back checks it again.
impl TryFrom<String> for MealOption {
    type Error = UnknownMealOption;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(UnknownMealOption(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_reads_back_from_its_spelling() {
        for option in MealOption::ALL {
            assert_eq!(MealOption::parse(option.as_str()), Some(option));
        }
        assert_eq!(MealOption::parse("halal"), None);
    }
}
