//! Tariffs by family income bracket: a period's price lists, each in effect from a date, each
//! with brackets of the quotient familial. A meal day's price is decided when it is booked and
//! captured in the event, so a later price list never changes a price already booked.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One income bracket: families whose quotient familial is at most `up_to` euros (inclusive)
/// pay `unit_price`; `up_to: None` is the open top bracket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bracket {
    pub up_to: Option<i32>,
    pub unit_price: Decimal,
}

/// The brackets of a period from `effective_from` on, until a later list takes over. Built only
/// through [`PriceList::new`], so every list prices every quotient.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceList {
    pub effective_from: NaiveDate,
    brackets: Vec<Bracket>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TariffError {
    #[error("a price list needs at least one bracket")]
    NoBrackets,
    #[error("the brackets' upper bounds must be strictly ascending")]
    NotAscending,
    #[error("the last bracket must be the open top one (`up_to`: null), and only the last")]
    OpenTopNotLast,
    #[error("an upper bound must be zero or more")]
    NegativeBound,
    #[error("a unit price must be a non-negative amount with at most two decimals")]
    InvalidPrice,
}

/// What the town pays attention to in a price: never below zero, never a fraction of a cent.
pub fn valid_price(price: Decimal) -> bool {
    price >= Decimal::ZERO && price.normalize().scale() <= 2
}

impl PriceList {
    /// A price list whose brackets cover every quotient exactly once, so that every family
    /// has exactly one price.
    pub fn new(effective_from: NaiveDate, brackets: Vec<Bracket>) -> Result<Self, TariffError> {
        let Some((top, bounded)) = brackets.split_last() else {
            return Err(TariffError::NoBrackets);
        };
        if top.up_to.is_some() || bounded.iter().any(|b| b.up_to.is_none()) {
            return Err(TariffError::OpenTopNotLast);
        }
        let bounds: Vec<i32> = bounded.iter().filter_map(|b| b.up_to).collect();
        if bounds.iter().any(|b| *b < 0) {
            return Err(TariffError::NegativeBound);
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(TariffError::NotAscending);
        }
        if !brackets.iter().all(|b| valid_price(b.unit_price)) {
            return Err(TariffError::InvalidPrice);
        }
        Ok(Self {
            effective_from,
            brackets,
        })
    }

    pub fn brackets(&self) -> &[Bracket] {
        &self.brackets
    }

    /// The price of the family's bracket; the top bracket's when the quotient is unknown, so
    /// that a family that has not documented its income never pays less than it owes.
    pub fn price_for(&self, quotient: Option<i32>) -> Decimal {
        let top = self.brackets.last().expect("a price list has brackets");
        let Some(quotient) = quotient else {
            return top.unit_price;
        };
        self.brackets
            .iter()
            .find(|b| b.up_to.is_none_or(|up_to| quotient <= up_to))
            .unwrap_or(top)
            .unit_price
    }
}

/// What one family pays per meal day in one period.
/// A bracket as a family reads it: from `from` euros of quotient familial (0 for the first) up
/// to `up_to` (inclusive; `None`: the open top one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BracketRange {
    pub from: i32,
    pub up_to: Option<i32>,
}

impl PriceList {
    /// The bracket a quotient falls in; an unknown quotient is in the top one.
    pub fn bracket_of(&self, quotient: Option<i32>) -> BracketRange {
        let mut from = 0;
        for b in &self.brackets {
            let fits = match (quotient, b.up_to) {
                (_, None) => true,
                (Some(q), Some(up_to)) => q <= up_to,
                (None, Some(_)) => false,
            };
            if fits {
                return BracketRange {
                    from,
                    up_to: b.up_to,
                };
            }
            from = b.up_to.map_or(from, |up_to| up_to + 1);
        }
        BracketRange { from, up_to: None }
    }
}

/// What a family pays for a meal from `from` to `to` (inclusive), and the bracket it is in then
/// (`None` before the period's first price list: the period's own price, for everyone).
#[derive(Clone, Debug, PartialEq)]
pub struct PriceStep {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unit_price: Decimal,
    pub bracket: Option<BracketRange>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayPrices {
    /// The period's own price, for days before its first price list.
    default: Decimal,
    /// Ascending by `effective_from`.
    lists: Vec<PriceList>,
    quotient: Option<i32>,
}

impl DayPrices {
    pub fn new(default: Decimal, mut lists: Vec<PriceList>, quotient: Option<i32>) -> Self {
        lists.sort_by_key(|l| l.effective_from);
        Self {
            default,
            lists,
            quotient,
        }
    }

    /// A period without price lists: one price for every family and day.
    pub fn flat(price: Decimal) -> Self {
        Self::new(price, Vec::new(), None)
    }

    /// The price of a meal on `day`: the list in effect that day (the latest that started on
    /// or before it), the period's own price when none is.
    /// The family's prices from `from` to `to`, one step a price list in effect (steps that
    /// change nothing for this family are merged).
    pub fn steps(&self, from: NaiveDate, to: NaiveDate) -> Vec<PriceStep> {
        let mut starts = vec![from];
        starts.extend(
            self.lists
                .iter()
                .map(|l| l.effective_from)
                .filter(|d| *d > from && *d <= to),
        );
        let mut steps: Vec<PriceStep> = Vec::new();
        for (i, start) in starts.iter().enumerate() {
            let end = starts
                .get(i + 1)
                .and_then(|next| next.pred_opt())
                .unwrap_or(to);
            let in_effect = self.lists.partition_point(|l| l.effective_from <= *start);
            let bracket = in_effect
                .checked_sub(1)
                .map(|i| self.lists[i].bracket_of(self.quotient));
            let unit_price = self.price_on(*start);
            match steps.last_mut() {
                Some(last) if last.unit_price == unit_price && last.bracket == bracket => {
                    last.to = end;
                }
                _ => steps.push(PriceStep {
                    from: *start,
                    to: end,
                    unit_price,
                    bracket,
                }),
            }
        }
        steps
    }

    pub fn price_on(&self, day: NaiveDate) -> Decimal {
        let in_effect = self.lists.partition_point(|l| l.effective_from <= day);
        match in_effect.checked_sub(1) {
            Some(i) => self.lists[i].price_for(self.quotient),
            None => self.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn b(up_to: Option<i32>, unit_price: Decimal) -> Bracket {
        Bracket { up_to, unit_price }
    }

    fn deliberation() -> PriceList {
        PriceList::new(
            d("2017-01-01"),
            vec![
                b(Some(500), dec!(1.50)),
                b(Some(900), dec!(3.00)),
                b(None, dec!(4.97)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_family_pays_the_price_of_its_bracket_bounds_included() {
        let list = deliberation();
        assert_eq!(list.price_for(Some(0)), dec!(1.50));
        assert_eq!(list.price_for(Some(500)), dec!(1.50));
        assert_eq!(list.price_for(Some(501)), dec!(3.00));
        assert_eq!(list.price_for(Some(900)), dec!(3.00));
        assert_eq!(list.price_for(Some(901)), dec!(4.97));
    }

    #[test]
    fn a_family_reads_its_bracket_and_its_prices_step_by_step() {
        let list = deliberation();
        assert_eq!(
            list.bracket_of(Some(650)),
            BracketRange {
                from: 501,
                up_to: Some(900)
            }
        );
        assert_eq!(
            list.bracket_of(Some(0)),
            BracketRange {
                from: 0,
                up_to: Some(500)
            }
        );
        assert_eq!(
            list.bracket_of(None),
            BracketRange {
                from: 901,
                up_to: None
            }
        );
        let prices = DayPrices::new(dec!(4.15), vec![deliberation()], Some(650));
        let steps = prices.steps(d("2016-09-01"), d("2017-07-07"));
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (steps[0].to, steps[0].unit_price, steps[0].bracket),
            (d("2016-12-31"), dec!(4.15), None)
        );
        assert_eq!(
            (steps[1].from, steps[1].to, steps[1].unit_price),
            (d("2017-01-01"), d("2017-07-07"), dec!(3.00))
        );
        assert_eq!(prices.steps(d("2017-02-01"), d("2017-02-28")).len(), 1);
    }

    #[test]
    fn an_unknown_quotient_pays_the_top_price() {
        assert_eq!(deliberation().price_for(None), dec!(4.97));
    }

    #[test]
    fn days_before_the_first_list_keep_the_periods_price() {
        let later = PriceList::new(
            d("2017-03-06"),
            vec![b(Some(500), dec!(1.60)), b(None, dec!(5.10))],
        )
        .unwrap();
        let prices = DayPrices::new(dec!(4.15), vec![later, deliberation()], Some(450));
        assert_eq!(prices.price_on(d("2016-12-31")), dec!(4.15));
        assert_eq!(prices.price_on(d("2017-01-01")), dec!(1.50));
        assert_eq!(prices.price_on(d("2017-03-03")), dec!(1.50));
        assert_eq!(prices.price_on(d("2017-03-06")), dec!(1.60));
        assert_eq!(
            DayPrices::flat(dec!(4.15)).price_on(d("2017-03-06")),
            dec!(4.15)
        );
    }

    #[test]
    fn malformed_lists_are_refused() {
        let day = d("2017-01-01");
        let refused = |brackets| PriceList::new(day, brackets).unwrap_err();
        assert_eq!(refused(vec![]), TariffError::NoBrackets);
        assert_eq!(
            refused(vec![b(Some(500), dec!(1))]),
            TariffError::OpenTopNotLast
        );
        assert_eq!(
            refused(vec![b(None, dec!(1)), b(Some(500), dec!(2))]),
            TariffError::OpenTopNotLast
        );
        assert_eq!(
            refused(vec![b(None, dec!(1)), b(None, dec!(2))]),
            TariffError::OpenTopNotLast
        );
        assert_eq!(
            refused(vec![
                b(Some(900), dec!(1)),
                b(Some(500), dec!(2)),
                b(None, dec!(3))
            ]),
            TariffError::NotAscending
        );
        assert_eq!(
            refused(vec![
                b(Some(500), dec!(1)),
                b(Some(500), dec!(2)),
                b(None, dec!(3))
            ]),
            TariffError::NotAscending
        );
        assert_eq!(
            refused(vec![b(Some(-1), dec!(1)), b(None, dec!(3))]),
            TariffError::NegativeBound
        );
        assert_eq!(
            refused(vec![b(Some(500), dec!(-0.01)), b(None, dec!(3))]),
            TariffError::InvalidPrice
        );
        assert_eq!(
            refused(vec![b(None, dec!(4.155))]),
            TariffError::InvalidPrice
        );
        // Trailing zeros are not extra decimals.
        assert!(PriceList::new(day, vec![b(None, dec!(4.1500))]).is_ok());
    }

    mod properties {
        use super::*;
        use chrono::Duration;
        use proptest::prelude::*;

        /// The rule written the plain way: every list, every bracket, no ordering assumed.
        fn reference_price(
            default: Decimal,
            lists: &[PriceList],
            quotient: Option<i32>,
            day: NaiveDate,
        ) -> Decimal {
            let mut in_effect: Option<&PriceList> = None;
            for list in lists {
                if list.effective_from <= day
                    && in_effect.is_none_or(|best| list.effective_from > best.effective_from)
                {
                    in_effect = Some(list);
                }
            }
            let Some(list) = in_effect else {
                return default;
            };
            let mut chosen: Option<&Bracket> = None;
            for bracket in list.brackets() {
                let fits = match (quotient, bracket.up_to) {
                    (None, up_to) => up_to.is_none(),
                    (Some(_), None) => true,
                    (Some(q), Some(up_to)) => q <= up_to,
                };
                let smaller = match (chosen.map(|c| c.up_to), bracket.up_to) {
                    (None, _) => true,
                    (Some(None), Some(_)) => true,
                    (Some(Some(best)), Some(up_to)) => up_to < best,
                    (Some(_), None) => false,
                };
                if fits && smaller {
                    chosen = Some(bracket);
                }
            }
            chosen.expect("the open top bracket fits").unit_price
        }

        fn price() -> impl Strategy<Value = Decimal> {
            (0i64..1000).prop_map(|cents| Decimal::new(cents, 2))
        }

        fn day() -> impl Strategy<Value = NaiveDate> {
            (0i64..400).prop_map(|n| d("2016-09-01") + Duration::days(n))
        }

        fn list(effective_from: NaiveDate) -> impl Strategy<Value = PriceList> {
            (
                prop::collection::btree_set(0i32..2000, 0..5),
                prop::collection::vec(price(), 6),
            )
                .prop_map(move |(bounds, prices)| {
                    let mut brackets: Vec<Bracket> = bounds
                        .into_iter()
                        .zip(&prices)
                        .map(|(up_to, price)| b(Some(up_to), *price))
                        .collect();
                    brackets.push(b(None, prices[5]));
                    PriceList::new(effective_from, brackets).unwrap()
                })
        }

        fn lists() -> impl Strategy<Value = Vec<PriceList>> {
            prop::collection::btree_set(day(), 0..5)
                .prop_flat_map(|days| days.into_iter().map(list).collect::<Vec<_>>())
        }

        fn quotient() -> impl Strategy<Value = Option<i32>> {
            prop::option::of(prop_oneof![0i32..2100, Just(500), Just(0)])
        }

        proptest! {
            #[test]
            fn the_price_of_a_day_follows_the_reference(
                default in price(),
                lists in lists(),
                quotient in quotient(),
                days in prop::collection::vec(day(), 1..10),
                shuffle in any::<prop::sample::Index>(),
            ) {
                // The order the lists are handed over in must not matter.
                let mut handed = lists.clone();
                let turns = shuffle.index(handed.len().max(1));
                handed.rotate_left(turns);
                let prices = DayPrices::new(default, handed, quotient);
                for day in days {
                    prop_assert_eq!(
                        prices.price_on(day),
                        reference_price(default, &lists, quotient, day)
                    );
                }
            }

            #[test]
            fn every_list_the_rules_accept_prices_every_quotient(
                list in day().prop_flat_map(list),
                quotient in quotient(),
            ) {
                prop_assert!(valid_price(list.price_for(quotient)));
            }
        }
    }
}
