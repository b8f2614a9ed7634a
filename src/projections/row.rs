//! A read model's row: its table, columns and key, declared once with
//! `read_model_row!`, and the text form of its values that the shared writer
//! sends (unnest arrays for the runner, COPY for rebuilds).

use std::fmt::Write;
use std::hash::Hash;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// One row of a read model's table.
pub trait Row:
    Clone + PartialEq + Send + Sync + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + 'static
{
    /// The value of the table's unique key column.
    type Key: Clone + Eq + Hash + Send + Sync + SqlValue + SqlType + 'static;
    const TABLE: &'static str;
    /// Its system-versioned history: every version of every row, with the
    /// time range in which it held (`projections/TABLE.sql` creates both).
    const HISTORY: &'static str;
    /// The unique key column, the target of the writer's `ON CONFLICT`.
    const KEY: &'static str;
    /// Every column, in the order of `values`.
    const COLUMNS: &'static [&'static str];
    /// Each column's SQL type, in the same order.
    const TYPES: &'static [&'static str];

    fn key(&self) -> &Self::Key;
    fn values(&self) -> Vec<&dyn SqlValue>;

    /// `a, b, c`: the columns for a SELECT of whole rows.
    fn column_list() -> String {
        Self::COLUMNS.join(", ")
    }
}

/// The SQL type a Rust value is stored as.
pub trait SqlType {
    const SQL_TYPE: &'static str;
}

/// A value in PostgreSQL's text input form.
pub trait SqlValue: Sync {
    /// Appends the value's text; returns `false` (and appends nothing) for NULL.
    fn write_text(&self, out: &mut String) -> bool;
}

macro_rules! sql_value_display {
    ($($t:ty => $sql:literal),*) => {$(
        impl SqlType for $t {
            const SQL_TYPE: &'static str = $sql;
        }
        impl SqlValue for $t {
            fn write_text(&self, out: &mut String) -> bool {
                write!(out, "{self}").expect("writing to memory");
                true
            }
        }
    )*};
}

sql_value_display!(i32 => "integer", i64 => "bigint", Uuid => "uuid", String => "text");

impl SqlType for bool {
    const SQL_TYPE: &'static str = "boolean";
}

impl SqlValue for bool {
    fn write_text(&self, out: &mut String) -> bool {
        out.push(if *self { 't' } else { 'f' });
        true
    }
}

impl SqlType for DateTime<Utc> {
    const SQL_TYPE: &'static str = "timestamptz";
}

impl SqlValue for DateTime<Utc> {
    /// Microseconds, truncated, as PostgreSQL keeps them (and as sqlx binds them).
    fn write_text(&self, out: &mut String) -> bool {
        write!(out, "{}", self.format("%Y-%m-%d %H:%M:%S%.6f+00")).expect("writing to memory");
        true
    }
}

impl<T: SqlType> SqlType for Option<T> {
    const SQL_TYPE: &'static str = T::SQL_TYPE;
}

impl<T: SqlValue> SqlValue for Option<T> {
    fn write_text(&self, out: &mut String) -> bool {
        match self {
            Some(value) => value.write_text(out),
            None => false,
        }
    }
}

/// Declares a read model's row type: the struct, its table, its key column and
/// its columns (one per field, named as the field), in one place.
///
/// ```ignore
/// read_model_row! {
///     /// One use of an invite.
///     #[derive(Serialize)]
///     pub struct InviteUseRow in "invite_use" keyed by position: i64 {
///         pub position: i64,
///         pub used_at: DateTime<Utc>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! read_model_row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $table:literal keyed by $key:ident : $key_type:ty {
            $( $(#[$field_meta:meta])* pub $field:ident : $type:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $type ),*
        }

        impl $crate::projections::row::Row for $name {
            type Key = $key_type;
            const TABLE: &'static str = $table;
            const HISTORY: &'static str = concat!($table, "_history");
            const KEY: &'static str = stringify!($key);
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            const TYPES: &'static [&'static str] =
                &[$(<$type as $crate::projections::row::SqlType>::SQL_TYPE),*];

            fn key(&self) -> &Self::Key {
                &self.$key
            }

            fn values(&self) -> Vec<&dyn $crate::projections::row::SqlValue> {
                vec![$(&self.$field),*]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_keep_microseconds_and_nulls_write_nothing() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        let mut out = String::new();
        assert!(at.write_text(&mut out));
        assert_eq!(out, "2023-11-14 22:13:20.123456+00");
        let mut out = String::new();
        assert!(!None::<String>.write_text(&mut out));
        assert!(out.is_empty());
    }
}
