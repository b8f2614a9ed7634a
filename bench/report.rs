//! The benchmark's one table, and the targets it is held to.

use std::fmt::Write;
use std::time::Duration;

use super::load::Stats;

#[derive(Default)]
pub struct Row {
    pub measure: String,
    pub clients: String,
    pub throughput: String,
    pub p50: String,
    pub p99: String,
    pub vs_limit: String,
    pub notes: String,
}

impl Row {
    /// A closed-loop measure; `limit` is the matching physical limit (per
    /// second), if any.
    pub fn from_stats(measure: &str, unit: &str, stats: &Stats, limit: Option<f64>) -> Row {
        Row {
            measure: measure.to_string(),
            clients: stats.clients.to_string(),
            throughput: rate(stats.per_second(), unit),
            p50: millis(stats.percentile(50.0)),
            p99: millis(stats.percentile(99.0)),
            vs_limit: limit
                .map(|l| percent(stats.per_second(), l))
                .unwrap_or_default(),
            notes: format!("{} in {:.1} s", stats.ops, stats.elapsed.as_secs_f64()),
        }
    }
}

pub fn rate(per_second: f64, unit: &str) -> String {
    format!("{per_second:.0} {unit}/s")
}

pub fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn percent(value: f64, limit: f64) -> String {
    format!("{:.0}%", ratio(value, limit) * 100.0)
}

pub fn ratio(value: f64, limit: f64) -> f64 {
    value / limit.max(f64::EPSILON)
}

/// The rows as an aligned plain-text table (also valid Markdown).
pub fn table(rows: &[Row]) -> String {
    let header = Row {
        measure: "measure".into(),
        clients: "clients".into(),
        throughput: "throughput".into(),
        p50: "p50".into(),
        p99: "p99".into(),
        vs_limit: "vs limit (7)".into(),
        notes: "notes".into(),
    };
    let cells = |r: &Row| {
        [
            r.measure.clone(),
            r.clients.clone(),
            r.throughput.clone(),
            r.p50.clone(),
            r.p99.clone(),
            r.vs_limit.clone(),
            r.notes.clone(),
        ]
    };
    let all: Vec<[String; 7]> = std::iter::once(&header).chain(rows).map(cells).collect();
    let widths: Vec<usize> = (0..7)
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in all.iter().enumerate() {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| match c {
                0 | 6 => format!("{cell:<w$}"),
                _ => format!("{cell:>w$}"),
            })
            .collect();
        let _ = writeln!(out, "| {} |", padded.join(" | "));
        if n == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(c, w)| match c {
                    0 | 6 => "-".repeat(*w),
                    _ => format!("{}:", "-".repeat(w - 1)),
                })
                .collect();
            let _ = writeln!(out, "| {} |", rule.join(" | "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_every_column() {
        let rows = vec![Row {
            measure: "a longer measure".into(),
            clients: "64".into(),
            throughput: "1 /s".into(),
            ..Row::default()
        }];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{text}");
        assert!(lines[2].starts_with("| a longer measure |"));
    }
}
