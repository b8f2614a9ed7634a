use std::fmt;

/// A place in the global order: the writing transaction's id, then the event's
/// position. Ordered lexicographically, as readers consume the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub xid: i64,
    pub global: i64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.xid, self.global)
    }
}

impl std::str::FromStr for Position {
    type Err = String;

    /// Parses what `Display` writes: `xid/global`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a log position (expected `xid/position`)");
        let (xid, global) = s.split_once('/').ok_or_else(bad)?;
        Ok(Position {
            xid: xid.parse().map_err(|_| bad())?,
            global: global.parse().map_err(|_| bad())?,
        })
    }
}
