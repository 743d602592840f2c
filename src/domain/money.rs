//! Euro amounts as French readers write them. The recap lines of the API and the pages both
//! show money this way, so it is spelled here once.

use rust_decimal::Decimal;

/// `4,97 €`: rounded to the cent, two decimals, a decimal comma.
pub fn french_euros(amount: Decimal) -> String {
    format!("{:.2} €", amount.round_dp(2)).replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_are_rounded_to_the_cent_with_a_comma() {
        assert_eq!(french_euros(dec!(4.966)), "4,97 €");
        assert_eq!(french_euros(dec!(16.6)), "16,60 €");
        assert_eq!(french_euros(dec!(0)), "0,00 €");
    }
}
