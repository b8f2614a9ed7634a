//! `invite/create-many`: many private invites in one call, each row checked
//! on its own (as `invite/create` would check it), the valid ones appended
//! together in one transaction, under the inviter's quota.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::idempotency::IdempotentRequest;
use super::invites::{create_command, terms_for, TermsOptions};
use super::quota;
use crate::auth::accounts::Account;
use crate::config::SenderResponseRedirect;
use crate::context::Context;
use crate::domain::decide::Decide;
use crate::domain::email::Email;
use crate::domain::invite::{Invite, InviteCommand, InviteError, InviteTerms};
use crate::domain::token::TokenType;
use crate::error::ServiceError;
use crate::ledger::{Admission, BatchResult, Guard, LedgerError};

/// Draws of fresh tokens when one collides with an existing invite.
const TOKEN_ATTEMPTS: usize = 5;

/// One invite asked for: a JSON item of `invites`, or a CSV line.
/// One invite of a bulk create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRow {
    pub email: String,
    pub role: String,
    pub name: Option<String>,
}

/// A row as read: an invite to check, or one that could not even be read
/// (a JSON item of the wrong shape, a CSV line with the wrong number of fields).
#[derive(Debug, Clone)]
pub enum RowInput {
    Read(BulkRow),
    Unreadable {
        email: Option<String>,
        message: String,
    },
}

impl RowInput {
    /// A JSON item of `invites`.
    pub fn from_json(item: Value) -> RowInput {
        let email = item
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_string);
        match serde_json::from_value(item) {
            Ok(row) => RowInput::Read(row),
            Err(e) => RowInput::Unreadable {
                email,
                message: format!("Invalid invite: {e}"),
            },
        }
    }

    fn email(&self) -> Option<&str> {
        match self {
            RowInput::Read(row) => Some(&row.email),
            RowInput::Unreadable { email, .. } => email.as_deref(),
        }
    }
}

/// The JSON body of `invite/create-many`: the invites, and the options every
/// invite of the call shares: `invite/create`'s, except `email` and `role`
/// (per row) and `senderResponse` (private invites answer with their id; the
/// token goes by email). A CSV upload gives the options in the query string.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharedOptions {
    /// Each item is read on its own: one of the wrong shape is a refused row,
    /// not a refused call. Absent with a CSV upload.
    #[serde(default)]
    #[schema(value_type = Vec<BulkRow>)]
    pub invites: Vec<Value>,
    pub token_type: Option<TokenType>,
    pub redirect_to_sign_up: Option<String>,
    pub redirect_to_sign_in: Option<String>,
    pub redirect_to_after_upgrade: Option<String>,
    pub max_uses: Option<i64>,
    pub expires_in: Option<i64>,
    pub share_inviter_name: Option<bool>,
    pub sender_response_redirect: Option<SenderResponseRedirect>,
}

impl From<SharedOptions> for TermsOptions {
    fn from(o: SharedOptions) -> Self {
        TermsOptions {
            token_type: o.token_type,
            redirect_to_sign_up: o.redirect_to_sign_up,
            redirect_to_sign_in: o.redirect_to_sign_in,
            redirect_to_after_upgrade: o.redirect_to_after_upgrade,
            max_uses: o.max_uses,
            expires_in: o.expires_in,
            share_inviter_name: o.share_inviter_name,
            sender_response_redirect: o.sender_response_redirect,
            custom_invite_url: None,
        }
    }
}

/// A row as the answer reports it before the append: refused already, or
/// ready with the id its invite gets.
#[derive(Debug, Clone)]
enum Checked {
    Refused { code: String, message: String },
    Ready { invite_id: Uuid },
}

/// How a call's invites are issued: by the standalone API (the ledger decides
/// who has an account and mails each token), or for the companion plugin
/// (which knows Better Auth's users and may mail the tokens itself).
#[derive(Debug, Clone)]
pub struct Issuing {
    /// Per row, whether the invitee has no account, when the caller knows;
    /// the ledger's accounts decide for a row without one.
    pub new_accounts: Vec<Option<bool>>,
    /// Each created invite's raw token is in the answer (for the plugin's email).
    pub tokens_in_answer: bool,
    /// The ledger keeps a sealed copy of each private token for its own email.
    pub ledger_mails: bool,
}

impl Issuing {
    /// The standalone API's: the ledger decides and mails; tokens never leave it.
    pub fn by_ledger() -> Self {
        Issuing {
            new_accounts: Vec::new(),
            tokens_in_answer: false,
            ledger_mails: true,
        }
    }
}

/// Creates the invites `rows` ask for; answers `{status, created, refused, invites}`
/// with one entry per row, in order.
pub async fn create_many(
    app: &Context,
    inviter: &Account,
    rows: Vec<RowInput>,
    options: TermsOptions,
    issuing: &Issuing,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Value, ServiceError> {
    let most = app.settings.config.invite_bulk_max;
    if rows.is_empty() {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "Give at least one invite",
        ));
    }
    if rows.len() > most {
        return Err(ServiceError::bad_request(
            "TOO_MANY_INVITES",
            format!(
                "At most {most} invites per call (INVITE_BULK_MAX); this one has {}",
                rows.len()
            ),
        ));
    }
    // The shared options are checked once, for the call: a bad one refuses it
    // rather than every row.
    let default_role = app.settings.roles.default_role().to_string();
    // One reading of the clock for the whole call: every row's `at` and expiry.
    let now = app.clock.now();
    terms_for(app, now, &default_role, None, None, false, &options)?;
    let known = existing_accounts(app, &rows).await?;
    let mut checked = Vec::with_capacity(rows.len());
    let mut ready = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row = match row {
            RowInput::Read(row) => row,
            RowInput::Unreadable { message, .. } => {
                checked.push(Checked::Refused {
                    code: "VALIDATION_ERROR".into(),
                    message: message.clone(),
                });
                continue;
            }
        };
        let new_account = issuing.new_accounts.get(i).copied().flatten();
        match row_terms(app, now, inviter, row, &options, &known, new_account) {
            Ok(terms) => {
                checked.push(Checked::Ready {
                    invite_id: terms.invite_id,
                });
                ready.push(terms);
            }
            Err(refused) => checked.push(Checked::Refused {
                code: refused.code().to_string(),
                message: refused.to_string(),
            }),
        }
    }
    let emails: Arc<Vec<Option<String>>> =
        Arc::new(rows.iter().map(|r| r.email().map(str::to_string)).collect());
    let checked = Arc::new(checked);
    if ready.is_empty() {
        return Ok(report(&emails, &checked, None, &Admission::default()));
    }

    let quota = quota::guard_for(app, inviter);
    let mut attempt = 0;
    let (results, admission, answer) = loop {
        let mut tokens = Vec::with_capacity(ready.len());
        let commands = ready
            .iter()
            .map(|terms| {
                let (token, hash, command) = issue_command(app, inviter, terms, now, issuing);
                tokens.push(token);
                (hash, command)
            })
            .collect();
        // The answer, now and on a replay, names this attempt's tokens.
        let handed = Arc::new(issuing.tokens_in_answer.then_some(tokens));
        let answer = {
            let (emails, checked) = (emails.clone(), checked.clone());
            move |admission: &Admission| report(&emails, &checked, handed.as_deref(), admission)
        };
        let guard = Guard {
            quota: quota.clone(),
            receipt: idempotent.map(|r| r.receipt(app, app.clock.now(), answer.clone())),
            ..Guard::default()
        };
        match app.ledger.create_invites(commands, &guard).await {
            // A token collided with an existing invite's: all new tokens.
            Err(LedgerError::Domain(InviteError::TokenTaken)) if attempt + 1 < TOKEN_ATTEMPTS => {
                attempt += 1;
            }
            result => {
                let (results, admission) = result?;
                break (results, admission, answer);
            }
        }
    };
    let last = results
        .iter()
        .filter_map(|r| match r {
            BatchResult::Written(position) => Some(*position),
            _ => None,
        })
        .max();
    app.written(last);
    Ok(answer(&admission))
}

/// A row's `Create` command with a fresh token; its sealed copy only when the
/// ledger mails it.
fn issue_command(
    app: &Context,
    inviter: &Account,
    terms: &InviteTerms,
    now: chrono::DateTime<chrono::Utc>,
    issuing: &Issuing,
) -> (String, String, InviteCommand) {
    let (token, hash, mut command) = create_command(app, inviter, terms, now);
    if let InviteCommand::Create { terms, .. } = &mut command {
        if !issuing.ledger_mails {
            terms.sealed_token = None;
        }
    }
    (token, hash, command)
}

/// The terms of one row's invite, or why the row is refused: the checks of
/// `invite/create`, then the aggregate's own decision on an empty invite.
fn row_terms(
    app: &Context,
    now: chrono::DateTime<chrono::Utc>,
    inviter: &Account,
    row: &BulkRow,
    options: &TermsOptions,
    known: &HashSet<String>,
    new_account: Option<bool>,
) -> Result<InviteTerms, ServiceError> {
    let email = Email::parse(&row.email)?.into_string();
    let new_account = new_account.unwrap_or_else(|| !known.contains(&email));
    let name = row
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(super::names::checked_name)
        .transpose()?;
    let terms = terms_for(app, now, &row.role, Some(email), name, new_account, options)?;
    // The aggregate's own checks (role, permission), on the terms alone: the
    // token is drawn once the row is known to be valid.
    let command = InviteCommand::Create {
        terms: terms.clone(),
        inviter: inviter.actor(),
        at: now,
    };
    Invite::default().decide(command, app.ledger.roles())?;
    Ok(terms)
}

/// The emails among the rows that already have an account, in one query.
async fn existing_accounts(
    app: &Context,
    rows: &[RowInput],
) -> Result<HashSet<String>, ServiceError> {
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|r| r.email().and_then(|e| Email::parse(e).ok()))
        .map(Email::into_string)
        .collect();
    let known: Vec<String> =
        sqlx::query_scalar("SELECT email FROM user_account WHERE email = ANY($1)")
            .bind(&emails)
            .fetch_all(&app.pool)
            .await?;
    Ok(known.into_iter().collect())
}

/// What `invite/create-many` answers: one entry per row, in order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkAnswer {
    pub status: bool,
    /// How many rows were created.
    pub created: usize,
    /// How many rows were refused.
    pub refused: usize,
    pub invites: Vec<BulkRowAnswer>,
}

/// One row of a bulk create: created with its `inviteId`, or refused with the
/// `{code, message}` `invite/create` gives.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkRowAnswer {
    /// The row's number, from 1.
    pub row: usize,
    pub email: Option<String>,
    pub created: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_id: Option<Uuid>,
    /// A created invite's raw token, handed out this once: only in the
    /// companion API's answer (the plugin mails it); the standalone API's
    /// tokens go by the ledger's email alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RowRefusal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowRefusal {
    pub code: String,
    pub message: String,
}

/// The answer: every row, created (with its `inviteId`) or refused (with the
/// `{code, message}` `invite/create` gives). Rows ready but past the quota's
/// room are refused with `INVITE_QUOTA_EXCEEDED`. `tokens`, when given, are
/// the ready rows' tokens, in order.
fn report(
    emails: &[Option<String>],
    checked: &[Checked],
    tokens: Option<&[String]>,
    admission: &Admission,
) -> Value {
    let mut ready_seen = 0;
    let over_quota = ServiceError::QuotaExceeded(admission.refused_by.clone().unwrap_or_default());
    let invites: Vec<BulkRowAnswer> = checked
        .iter()
        .zip(emails)
        .enumerate()
        .map(|(i, (row, email))| {
            let answer = |created: Option<(Uuid, Option<String>)>, error: Option<RowRefusal>| {
                let (invite_id, token) = created.unzip();
                BulkRowAnswer {
                    row: i + 1,
                    email: email.clone(),
                    created: invite_id.is_some(),
                    invite_id,
                    token: token.flatten(),
                    error,
                }
            };
            let refusal = |code: &str, message: &str| {
                answer(
                    None,
                    Some(RowRefusal {
                        code: code.to_string(),
                        message: message.to_string(),
                    }),
                )
            };
            match row {
                Checked::Refused { code, message } => refusal(code, message),
                Checked::Ready { invite_id } => {
                    ready_seen += 1;
                    if ready_seen <= admission.admitted {
                        let token = tokens.map(|t| t[ready_seen - 1].clone());
                        answer(Some((*invite_id, token)), None)
                    } else {
                        refusal(over_quota.code(), &over_quota.to_string())
                    }
                }
            }
        })
        .collect();
    let created = invites.iter().filter(|row| row.created).count();
    let answer = BulkAnswer {
        status: true,
        created,
        refused: invites.len() - created,
        invites,
    };
    serde_json::to_value(answer).expect("a bulk answer serializes")
}

/// Reads a CSV upload: a header `email,role` or `email,role,name` (any case),
/// then one invite a line. A line with too few or too many fields becomes a
/// row refused on its own.
pub fn rows_from_csv(text: &str) -> Result<Vec<RowInput>, ServiceError> {
    let invalid = |message: String| ServiceError::bad_request("INVALID_CSV", message);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| invalid(format!("The CSV cannot be read: {e}")))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let columns = match header.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["email", "role"] => 2,
        ["email", "role", "name"] => 3,
        _ => {
            return Err(invalid(
                "The CSV's first line must be the header `email,role` or `email,role,name`".into(),
            ))
        }
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(format!("The CSV cannot be read: {e}")))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows.push(if record.len() < 2 || record.len() > columns {
            RowInput::Unreadable {
                email: record.get(0).map(str::to_string),
                message: format!(
                    "A line has {} fields; the header has {columns}",
                    record.len()
                ),
            }
        } else {
            RowInput::Read(BulkRow {
                email: record[0].to_string(),
                role: record[1].to_string(),
                name: record.get(2).map(str::to_string),
            })
        });
    }
    Ok(rows)
}
