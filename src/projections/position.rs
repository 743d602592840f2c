use std::fmt;

/// A place in the commit-safe order of the log: (writing transaction, global position).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub transaction_id: u64,
    pub global_position: i64,
}

impl Position {
    pub const START: Position = Position {
        transaction_id: 0,
        global_position: 0,
    };

    /// Past every event: "no upper bound".
    pub const END: Position = Position {
        transaction_id: i64::MAX as u64,
        global_position: i64::MAX,
    };

    /// From the text form of an `xid8` and a global position.
    pub fn parse(transaction_id: &str, global_position: i64) -> anyhow::Result<Self> {
        Ok(Position {
            transaction_id: transaction_id.parse()?,
            global_position,
        })
    }

    pub fn xid_text(&self) -> String {
        self.transaction_id.to_string()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.transaction_id, self.global_position)
    }
}
