//! Erasure reaches the answers kept for `Idempotency-Key` retries: a kept
//! answer that names the erased person (a `create-many` row's email, the user
//! a `set-role` answered) is rewritten with `[erased]` in their place and
//! sealed again, so a retry within the 24 hours still gets its answer, without
//! them.

use serde_json::Value;

use super::idempotency::associated_data;
use crate::context::Context;
use crate::domain::normalize_email;
use crate::ledger::personal::ERASED;

/// The fields an answer names a person by, beside their id or email.
const PERSONAL_FIELDS: [&str; 3] = ["email", "name", "image"];

/// Rewrites every kept answer that names `person` (by id or one of `emails`).
pub async fn erase_from_receipts(
    app: &Context,
    person: &str,
    emails: &[String],
) -> anyhow::Result<()> {
    let receipts: Vec<(String, String, String)> =
        sqlx::query_as("SELECT user_id, key, answer FROM idempotency_receipt")
            .fetch_all(&app.pool)
            .await?;
    let seal = &app.settings.token_seal;
    for (user_id, key, sealed) in receipts {
        let associated = associated_data(&user_id, &key);
        let Ok(mut answer) = seal
            .open(&sealed, &associated)
            .and_then(|text| Ok(serde_json::from_str::<Value>(&text)?))
        else {
            // Not ours to read (another key, a damaged row): left as it is.
            continue;
        };
        if !redact(&mut answer, person, emails) {
            continue;
        }
        sqlx::query("UPDATE idempotency_receipt SET answer = $3 WHERE user_id = $1 AND key = $2")
            .bind(&user_id)
            .bind(&key)
            .bind(seal.seal(&answer.to_string(), &associated))
            .execute(&app.pool)
            .await?;
    }
    Ok(())
}

/// Replaces what names the person in `value`; whether anything was replaced.
fn redact(value: &mut Value, person: &str, emails: &[String]) -> bool {
    match value {
        Value::String(text) if is_theirs(text, emails) => {
            *text = ERASED.to_string();
            true
        }
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= redact(item, person, emails);
            }
            changed
        }
        Value::Object(map) => {
            let names_them = map.iter().any(|(field, value)| {
                let Some(text) = value.as_str() else {
                    return false;
                };
                (matches!(field.as_str(), "id" | "userId") && text == person)
                    || is_theirs(text, emails)
            });
            let mut changed = false;
            if names_them {
                for field in PERSONAL_FIELDS {
                    if let Some(value) = map.get_mut(field).filter(|v| v.is_string()) {
                        *value = Value::String(ERASED.to_string());
                        changed = true;
                    }
                }
            }
            for item in map.values_mut() {
                changed |= redact(item, person, emails);
            }
            changed
        }
        _ => false,
    }
}

fn is_theirs(text: &str, emails: &[String]) -> bool {
    text.contains('@') && emails.contains(&normalize_email(text))
}
