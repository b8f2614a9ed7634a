//! A read model's row: its table, columns and key, declared once with
//! `read_model_row!`, and the text form of its values that the shared writer
//! sends (unnest arrays for the runner, COPY for rebuilds).

use std::fmt::Write;
use std::hash::Hash;

use chrono::{DateTime, Datelike, Timelike, Utc};
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

sql_value_display!(i32 => "integer", i64 => "bigint");

// Text, ids and times are most of a rebuild's COPY: they skip the formatter.

impl SqlType for String {
    const SQL_TYPE: &'static str = "text";
}

impl SqlValue for String {
    fn write_text(&self, out: &mut String) -> bool {
        out.push_str(self);
        true
    }
}

impl SqlType for Uuid {
    const SQL_TYPE: &'static str = "uuid";
}

impl SqlValue for Uuid {
    fn write_text(&self, out: &mut String) -> bool {
        out.push_str(self.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        true
    }
}

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
    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`: microseconds, truncated, as PostgreSQL
    /// keeps them (and as sqlx binds them). Written digit by digit: chrono's
    /// `format` parses its pattern on every call, a fifth of a rebuild's time.
    fn write_text(&self, out: &mut String) -> bool {
        let (date, time) = (self.date_naive(), self.time());
        let micros = (time.nanosecond() / 1_000).min(999_999);
        push_digits(out, date.year().max(0) as u32, 4);
        out.push('-');
        push_digits(out, date.month(), 2);
        out.push('-');
        push_digits(out, date.day(), 2);
        out.push(' ');
        push_digits(out, time.hour(), 2);
        out.push(':');
        push_digits(out, time.minute(), 2);
        out.push(':');
        push_digits(out, time.second(), 2);
        out.push('.');
        push_digits(out, micros, 6);
        out.push_str("+00");
        true
    }
}

/// `value` in decimal, zero-padded to `width` digits.
fn push_digits(out: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    let mut rest = value;
    if rest >= divisor * 10 {
        write!(out, "{rest}").expect("writing to memory");
        return;
    }
    while divisor > 0 {
        out.push(char::from(b'0' + (rest / divisor) as u8));
        rest %= divisor;
        divisor /= 10;
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

    fn text(value: &dyn SqlValue) -> String {
        let mut out = String::new();
        value.write_text(&mut out);
        out
    }

    #[test]
    fn times_are_written_as_postgresql_reads_them() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T09:05:07.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(text(&at), "2026-03-01 09:05:07.123456+00");
        let at = DateTime::parse_from_rfc3339("0999-12-31T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(text(&at), "0999-12-31 23:59:59.000000+00");
        let id = Uuid::from_u128(0x5b1e_7a2c_8c4d_4e0f_9a6b_2d3c_4e5f_6a7b);
        assert_eq!(text(&id), "5b1e7a2c-8c4d-4e0f-9a6b-2d3c4e5f6a7b");
        assert_eq!(text(&"tab\there".to_string()), "tab\there");
    }
}
