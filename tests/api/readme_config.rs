//! The README's configuration reference is generated from the options `serve`
//! really takes (clap's definitions: flag, variable, default, help), so it
//! cannot drift: this test fails when the table between the README's
//! `<!-- configuration reference -->` markers differs from what the options
//! say. `UPDATE_README=1 cargo nextest run --test readme_config` rewrites it.

use std::path::Path;

use clap::Args;
use invite_ledger::config::Config;

const START: &str =
    "<!-- configuration reference: generated from the options by tests/api/readme_config.rs -->\n";
const END: &str = "<!-- end of the configuration reference -->\n";

/// Options every command takes, defined beside the commands (`src/main.rs`):
/// `LOG_FORMAT` there, `RUST_LOG` read by the log filter.
const EVERY_COMMAND: &[[&str; 4]] = &[
    [
        "LOG_FORMAT",
        "--log-format",
        "`text`",
        "Log format on stderr: `text` (coloured on a terminal only) or `json` (one object a line, for log shippers); every command takes it",
    ],
    [
        "RUST_LOG",
        "",
        "`info`",
        "Log levels, e.g. `warn`, `info,invite_ledger=debug`, `info,sqlx=warn` ([`EnvFilter`](https://docs.rs/tracing-subscriber/latest/tracing_subscriber/filter/struct.EnvFilter.html) syntax)",
    ],
];

/// One table row per option of `serve`, in the order `--help` lists them.
fn reference() -> String {
    let command = Config::augment_args(clap::Command::new("serve"));
    let mut table = String::from("| variable | flag | default | meaning |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        if arg.is_hide_set() {
            continue;
        }
        let env = arg
            .get_env()
            .map(|e| e.to_string_lossy().to_string())
            .unwrap_or_else(|| panic!("--{} has no environment variable", arg.get_id()));
        let flag = format!("`--{}`", arg.get_long().unwrap());
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|d| d.to_string_lossy().to_string())
            .collect();
        let default = if defaults.is_empty() {
            "(unset)".to_string()
        } else {
            format!("`{}`", defaults.join(","))
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .unwrap_or_else(|| panic!("--{} has no description", arg.get_id()))
            .to_string();
        // An option without a value of its own says in its help what it falls back to.
        let (help, default) = match help.rsplit_once(" [default: ") {
            Some((help, fallback)) if defaults.is_empty() => {
                (help.to_string(), fallback.trim_end_matches(']').to_string())
            }
            _ => (help, default),
        };
        table.push_str(&row(&[&format!("`{env}`"), &flag, &default, &help]));
    }
    for [env, flag, default, meaning] in EVERY_COMMAND {
        let flag = if flag.is_empty() {
            String::new()
        } else {
            format!("`{flag}`")
        };
        table.push_str(&row(&[&format!("`{env}`"), &flag, default, meaning]));
    }
    table
}

fn row(cells: &[&str]) -> String {
    let cells: Vec<String> = cells
        .iter()
        .map(|c| {
            c.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace('|', "\\|")
        })
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

#[test]
fn the_readme_lists_every_option_as_clap_defines_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme.find(START).expect("the reference's start marker") + START.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("the reference's end marker");
    let expected = reference();
    if readme[start..end] == expected {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README.md's configuration reference differs from the options; \
         `UPDATE_README=1 cargo nextest run --test readme_config` rewrites it as:\n{expected}"
    );
}

#[test]
fn every_option_has_a_variable_and_a_description() {
    let table = reference();
    for needle in [
        "`DATABASE_URL`",
        "`TOKEN_HASH_KEY`",
        "`TRUSTED_ORIGINS`",
        "`LOG_FORMAT`",
    ] {
        assert!(table.contains(needle), "{needle} in\n{table}");
    }
}
