use rust_decimal::Decimal;

/// Money on the wire: a string with two decimals, `"16.60"`.
pub fn money(amount: Decimal) -> String {
    format!("{:.2}", amount.round_dp(2))
}
