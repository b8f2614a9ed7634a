//! The invite lifecycle: create, activate, use, get, cancel, reject, resend.
//! Emails are not sent here: the email reactor follows `Created` and `Resent`.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::client::ClientInfo;
use super::idempotency::IdempotentRequest;
use super::refusals::{self, Attempt, Tried};
use super::{quota, redirect};
use crate::auth::accounts::{self, Account};
use crate::config::{SenderResponse, SenderResponseRedirect};
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::invite::{Actor, InviteCommand, InviteError, InviteTerms};
use crate::domain::invite_link::InviteLinks;
use crate::domain::token::{random_code, random_token, TokenType};
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::projections::invite::{InviteRow, InviteStatus};
use crate::projections::row::Row;
use crate::rate_limit::{self, Check};
use sqlx::{FromRow, Row as _};

/// A year of seconds times ten: far enough for any real invite.
const MAX_EXPIRES_IN: i64 = 10 * 365 * 24 * 3600;
const MAX_MAX_USES: i64 = 1_000_000;

/// The body of `POST /invite/create`, as the plugin names its fields. A misspelt
/// option is refused rather than silently replaced by its default.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"role": "user", "senderResponse": "token"}))]
pub struct CreateInvite {
    /// The role the invite grants (a configured role, not above the inviter's).
    pub role: String,
    /// Makes the invite private: bound to this address and sent to it by email.
    /// A list makes one private invite per address, as the plugin does.
    #[schema(value_type = Option<Object>)]
    pub email: Option<OneOrMany>,
    /// `DEFAULT_TOKEN_TYPE` unless given.
    pub token_type: Option<TokenType>,
    /// A relative path or a URL on a trusted origin.
    pub redirect_to_sign_up: Option<String>,
    /// A relative path or a URL on a trusted origin.
    pub redirect_to_sign_in: Option<String>,
    /// A relative path or a URL on a trusted origin.
    pub redirect_to_after_upgrade: Option<String>,
    /// `DEFAULT_MAX_USES` unless given; none given on a public invite under
    /// `INFINITY_MAX_USES`: unlimited uses.
    pub max_uses: Option<i64>,
    /// Seconds the invite stays valid; `INVITATION_TOKEN_EXPIRES_IN` unless given.
    pub expires_in: Option<i64>,
    pub share_inviter_name: Option<bool>,
    /// What the answer's `message` holds: the token or the link.
    pub sender_response: Option<SenderResponse>,
    /// Which page a link answer leads to.
    pub sender_response_redirect: Option<SenderResponseRedirect>,
    /// The link's path under `/api/auth`, `{token}` and `{callbackURL}` filled
    /// in (e.g. `/invite/{token}?callbackURL={callbackURL}`); `DEFAULT_CUSTOM_INVITE_URL`
    /// unless given.
    #[serde(rename = "customInviteUrl")]
    pub custom_invite_url: Option<String>,
}

/// `email` as the plugin takes it: one address or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(email) => vec![email],
            OneOrMany::Many(emails) => emails,
        }
    }
}

/// Most addresses one `invite/create` takes; more go through `invite/create-many`.
const MAX_EMAILS_PER_CREATE: usize = 100;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub invite_id: Uuid,
    /// The token, the URL, or "The invitation was sent" for a private invite.
    pub message: String,
    /// With a list of emails: each invite's id, in the list's order.
    pub invite_ids: Option<Vec<Uuid>>,
}

/// The invite this token opens, under its keyed hash or, for an invite made
/// before those, its plain one (see `domain::token_hash`).
pub async fn find(app: &Context, token: &str) -> Result<Option<InviteRow>, ServiceError> {
    static BY_TOKEN_HASH: LazyLock<String> = LazyLock::new(by_token_hash_sql);
    let [keyed, legacy] = app.settings.token_hasher.candidates(token);
    let read = || {
        sqlx::query_as(&BY_TOKEN_HASH)
            .bind(keyed.clone())
            .bind(legacy.clone())
            .fetch_optional(&app.pool)
    };
    // An invite just made on another replica may not be in this one's view yet.
    match read().await? {
        None if app.see_the_log().await? => Ok(read().await?),
        found => Ok(found),
    }
}

/// The invite under the keyed hash `$1`, else under the plain hash `$2`: two
/// equality probes of the unique index. A plan that holds at any table size: an
/// `= ANY($1)` with a sort, planned once while the table was small, stayed a
/// sequential scan as the table grew (with autovacuum off, nothing re-plans it).
fn by_token_hash_sql() -> String {
    let columns = InviteRow::column_list();
    format!(
        "SELECT {columns} FROM (
             SELECT 1 AS preference, {columns} FROM invite WHERE token_hash = $1
             UNION ALL
             SELECT 2, {columns} FROM invite WHERE token_hash = $2) AS candidates
          ORDER BY preference LIMIT 1"
    )
}

/// `find`, and the guessing limit `check` read in the same statement: a
/// blocked client learns nothing, a found token costs one read and no write.
pub async fn find_checked(
    app: &Context,
    token: &str,
    check: &Check,
) -> Result<Option<InviteRow>, ServiceError> {
    static CHECKED: LazyLock<String> =
        LazyLock::new(|| rate_limit::guarded_sql(&by_token_hash_sql(), 3));
    let [keyed, legacy] = app.settings.token_hasher.candidates(token);
    let row = sqlx::query(&CHECKED)
        .bind(keyed)
        .bind(legacy)
        .bind(&check.bucket)
        .bind(check.window_secs)
        .bind(check.max)
        .fetch_one(&app.pool)
        .await?;
    if rate_limit::blocked_by(row.try_get("limit_wait")?).is_some() {
        return Err(ServiceError::RateLimited);
    }
    match row.try_get::<Option<Uuid>, _>("id")? {
        Some(_) => Ok(Some(InviteRow::from_row(&row)?)),
        // Not here yet, perhaps: `find` waits for the log before it says so.
        None => find(app, token).await,
    }
}

type CommandResult =
    Result<Option<crate::ledger::Position>, crate::ledger::LedgerError<InviteError>>;

/// Runs `command` on the invite this token opens: under its keyed hash, then,
/// if no invite is there, under the plain hash of invites made before keyed
/// ones. Returns the id it ran under, for a follow-up command.
async fn run(app: &Context, token: &str, command: InviteCommand) -> (String, CommandResult) {
    let [keyed, legacy] = app.settings.token_hasher.candidates(token);
    match app
        .ledger
        .execute(&keyed, command.clone(), &Guard::default())
        .await
    {
        Err(crate::ledger::LedgerError::Domain(InviteError::NotFound)) => {
            let result = app
                .ledger
                .execute(&legacy, command, &Guard::default())
                .await;
            (legacy, result)
        }
        result => (keyed, result),
    }
}

/// The options an invite is created with, beside its role and email: what
/// `invite/create` and `invite/create-many` share.
#[derive(Debug, Clone, Default)]
pub struct TermsOptions {
    pub token_type: Option<TokenType>,
    pub redirect_to_sign_up: Option<String>,
    pub redirect_to_sign_in: Option<String>,
    pub redirect_to_after_upgrade: Option<String>,
    pub max_uses: Option<i64>,
    pub expires_in: Option<i64>,
    pub share_inviter_name: Option<bool>,
    pub sender_response_redirect: Option<SenderResponseRedirect>,
    pub custom_invite_url: Option<String>,
}

impl CreateInvite {
    fn options(&self) -> TermsOptions {
        TermsOptions {
            token_type: self.token_type,
            redirect_to_sign_up: self.redirect_to_sign_up.clone(),
            redirect_to_sign_in: self.redirect_to_sign_in.clone(),
            redirect_to_after_upgrade: self.redirect_to_after_upgrade.clone(),
            max_uses: self.max_uses,
            expires_in: self.expires_in,
            share_inviter_name: self.share_inviter_name,
            sender_response_redirect: self.sender_response_redirect,
            custom_invite_url: self.custom_invite_url.clone(),
        }
    }
}

/// What `invite/create` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAnswer {
    status: bool,
    /// The token or the link (`senderResponse`), or "The invitation was sent" for a
    /// private invite, whose token only its email carries.
    message: String,
    invite_id: Uuid,
    /// With a list of emails: each invite's id, in the list's order.
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_ids: Option<Vec<Uuid>>,
}

impl Created {
    /// The answer of `invite/create`: what the handler sends and a receipt keeps.
    pub fn answer(&self) -> CreatedAnswer {
        CreatedAnswer {
            status: true,
            message: self.message.clone(),
            invite_id: self.invite_id,
            invite_ids: self.invite_ids.clone(),
        }
    }
}

/// `{status: true, message}`: what a change of an invite answers, built here
/// once for the handler and for the receipt a retry is answered from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Done {
    status: bool,
    message: String,
}

impl Done {
    fn new(message: &str) -> Done {
        Done {
            status: true,
            message: message.to_string(),
        }
    }

    /// The answer of `invite/cancel`.
    pub fn cancelled() -> Done {
        Done::new("Invite cancelled successfully")
    }

    /// The answer of `invite/reject`.
    pub fn rejected() -> Done {
        Done::new("Invite rejected successfully")
    }

    /// The answer of `invite/resend`.
    pub fn resent() -> Done {
        Done::new("The invitation was sent again")
    }
}

/// An answer as a receipt keeps it.
fn kept(answer: &impl Serialize) -> Value {
    serde_json::to_value(answer).expect("answers serialize")
}

/// The terms of a new invite: options checked, defaults filled in. Refuses a
/// bad option, or an email whose domain the rules keep from this role.
/// `now` is the command's one reading of the clock: the invite expires
/// `expiresIn` after the `at` of its `Created` (`create_command`).
pub fn terms_for(
    app: &Context,
    now: DateTime<Utc>,
    role: &str,
    email: Option<String>,
    invitee_name: Option<String>,
    new_account: bool,
    options: &TermsOptions,
) -> Result<InviteTerms, ServiceError> {
    let settings = &app.settings;
    let config = &settings.config;
    if let Some(email) = &email {
        check_email_domain(app, role, email)?;
    }
    // better-invite's unlimited uses: a public invite that names no limit. Its
    // `maxUses` is stored as 1, as the plugin stores it.
    let infinity_max_uses =
        config.infinity_max_uses && email.is_none() && options.max_uses.is_none();
    let max_uses = match infinity_max_uses {
        true => 1,
        false => options.max_uses.unwrap_or(config.default_max_uses as i64),
    };
    if !(1..=MAX_MAX_USES).contains(&max_uses) {
        return Err(InviteError::InvalidMaxUses.into());
    }
    let expires_in = options
        .expires_in
        .unwrap_or(config.invitation_token_expires_in);
    if !(1..=MAX_EXPIRES_IN).contains(&expires_in) {
        return Err(InviteError::InvalidExpiry.into());
    }
    let trusted = &settings.trusted_origins;
    let pick = |given: &Option<String>, default: &str| match given {
        Some(target) => redirect::check(target, trusted),
        None => Ok(default.to_string()),
    };
    let sender_response_redirect = options
        .sender_response_redirect
        .unwrap_or(config.default_sender_response_redirect);
    Ok(InviteTerms {
        invite_id: Uuid::new_v4(),
        token_type: options
            .token_type
            .unwrap_or(config.default_token_type.into()),
        role: role.to_string(),
        invitee_id: email.as_deref().map(crate::domain::user::user_id_for_email),
        email,
        invitee_name,
        new_account,
        max_uses: max_uses as u32,
        infinity_max_uses,
        expires_at: now + Duration::seconds(expires_in),
        redirect_to_sign_up: pick(
            &options.redirect_to_sign_up,
            &config.default_redirect_to_sign_up,
        )?,
        redirect_to_sign_in: pick(
            &options.redirect_to_sign_in,
            &config.default_redirect_to_sign_in,
        )?,
        redirect_to_after_upgrade: pick(
            &options.redirect_to_after_upgrade,
            &config.default_redirect_after_upgrade,
        )?,
        share_inviter_name: options
            .share_inviter_name
            .unwrap_or(config.default_share_inviter_name),
        sender_response_redirect: sender_response_redirect.as_str().to_string(),
        sealed_token: None,
        custom_invite_url: custom_invite_url(
            options
                .custom_invite_url
                .as_deref()
                .or(config.default_custom_invite_url.as_deref()),
        )?,
    })
}

/// A `customInviteUrl` is a path under `/api/auth` that holds `{token}`: the
/// link stays on this server, whatever the invite says.
fn custom_invite_url(given: Option<&str>) -> Result<Option<String>, ServiceError> {
    let Some(path) = given else { return Ok(None) };
    let on_this_server = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if !on_this_server || !path.contains("{token}") || path.len() > 2000 {
        return Err(ServiceError::bad_request(
            "INVALID_REDIRECT",
            "customInviteUrl must be a path under /api/auth that holds {token}",
        ));
    }
    Ok(Some(path.to_string()))
}

/// `403 EMAIL_DOMAIN_NOT_ALLOWED` when the domain rules keep invites to `role`
/// from `email` (`INVITE_ALLOWED_DOMAINS`, `INVITE_DENIED_DOMAINS`).
pub fn check_email_domain(app: &Context, role: &str, email: &str) -> Result<(), ServiceError> {
    if app.settings.email_domains.allows(role, email) {
        return Ok(());
    }
    let domain = email.rsplit_once('@').map_or(email, |(_, d)| d);
    Err(ServiceError::Forbidden {
        code: "EMAIL_DOMAIN_NOT_ALLOWED",
        message: format!("Invites to role `{role}` may not go to the email domain `{domain}`"),
    })
}

/// A public invite is open to any email, so the domain rules apply to whoever
/// uses it, as they applied to a private invite's email when it was created.
pub async fn check_public_invite_domain(
    app: &Context,
    token: &str,
    email: &str,
) -> Result<(), ServiceError> {
    match find(app, token).await? {
        Some(invite) if invite.email.is_none() => check_email_domain(app, &invite.role, email),
        _ => Ok(()),
    }
}

/// A fresh token for `terms` and the command creating the invite under its
/// keyed hash (a private invite's token sealed for its email).
pub fn create_command(
    app: &Context,
    inviter: &Account,
    terms: &InviteTerms,
    at: DateTime<Utc>,
) -> (String, String, InviteCommand) {
    let settings = &app.settings;
    let token = generate_token(app, terms.token_type);
    let hash = settings.token_hasher.keyed(&token);
    let mut terms = terms.clone();
    // Only a private invite's token is needed again, by its email.
    terms.sealed_token = terms
        .email
        .is_some()
        .then(|| settings.token_seal.seal(&token, &hash));
    let command = InviteCommand::Create {
        terms,
        inviter: inviter.actor(),
        at,
    };
    (token, hash, command)
}

pub async fn create(
    app: &Context,
    inviter: &Account,
    mut request: CreateInvite,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Created, ServiceError> {
    let raw = request.email.take().map(OneOrMany::into_vec);
    let emails = match raw {
        None => return create_one(app, inviter, request, None, idempotent).await,
        Some(raw) => parse_emails(raw)?,
    };
    if let [email] = &emails[..] {
        return create_one(app, inviter, request, Some(email.clone()), idempotent).await;
    }
    if idempotent.is_some() {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "A list of emails takes no Idempotency-Key; use invite/create-many",
        ));
    }
    // One invite per address, as the plugin sends them: every address was
    // checked first, so a bad one creates none.
    let mut ids = Vec::with_capacity(emails.len());
    for email in emails {
        let created = create_one(app, inviter, request.clone(), Some(email), None).await?;
        ids.push(created.invite_id);
    }
    Ok(Created {
        invite_id: ids[0],
        message: "The invitations were sent".to_string(),
        invite_ids: Some(ids),
    })
}

/// The addresses of a create, each parsed once, duplicates dropped.
fn parse_emails(raw: Vec<String>) -> Result<Vec<String>, ServiceError> {
    if raw.is_empty() || raw.len() > MAX_EMAILS_PER_CREATE {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            format!("email takes 1 to {MAX_EMAILS_PER_CREATE} addresses"),
        ));
    }
    let mut emails: Vec<String> = Vec::with_capacity(raw.len());
    for address in raw {
        let email = Email::parse(&address)?.into_string();
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    Ok(emails)
}

async fn create_one(
    app: &Context,
    inviter: &Account,
    request: CreateInvite,
    email: Option<String>,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Created, ServiceError> {
    let config = &app.settings.config;
    let new_account = match &email {
        Some(email) => accounts::by_email(&app.pool, email).await?.is_none(),
        None => true,
    };
    let now = app.clock.now();
    let terms = terms_for(
        app,
        now,
        &request.role,
        email,
        None,
        new_account,
        &request.options(),
    )?;
    let quota = quota::guard_for(app, inviter);

    // Short tokens can collide; the ledger refuses a taken one, so draw again.
    let mut attempts = 0;
    let (created, position) = loop {
        let (token, hash, command) = create_command(app, inviter, &terms, now);
        let message = match terms.email {
            // The email reactor sends it, from the `Created` event.
            Some(_) => "The invitation was sent".to_string(),
            None => match request
                .sender_response
                .unwrap_or(config.default_sender_response)
            {
                SenderResponse::Token => token,
                SenderResponse::Url => InviteLinks::new(&app.settings.base_url).custom_link(
                    &token,
                    terms.sign_in_up_page(),
                    terms.custom_invite_url.as_deref(),
                ),
            },
        };
        let created = Created {
            invite_id: terms.invite_id,
            message,
            invite_ids: None,
        };
        let answer = kept(&created.answer());
        let guard = Guard {
            quota: quota.clone(),
            receipt: idempotent.map(|r| r.receipt(app, app.clock.now(), move |_| answer.clone())),
            ..Guard::default()
        };
        match app.ledger.execute(&hash, command, &guard).await {
            Err(crate::ledger::LedgerError::Domain(InviteError::TokenTaken)) if attempts < 5 => {
                attempts += 1;
            }
            result => break (created, result?),
        }
    };
    app.written(position);
    Ok(created)
}

fn generate_token(app: &Context, token_type: TokenType) -> String {
    let mut rng = rand::thread_rng();
    match token_type {
        TokenType::Token => random_token(&mut rng),
        TokenType::Code => random_code(&mut rng),
        TokenType::Custom => {
            let config = &app.settings.config;
            let body: String = (0..config.custom_token_length)
                .map(|_| rng.sample(rand::distributions::Alphanumeric) as char)
                .collect();
            format!("{}{body}", config.custom_token_prefix)
        }
    }
}

/// What activation leads to.
pub enum Activation {
    /// A visitor: the cookie is set, they go and sign up or sign in.
    SignInUpRequired { redirect_to: String },
    /// A signed-in user: the invite was used at once.
    Used { redirect_to: String },
}

/// `POST /invite/activate`: a signed-in user uses the invite at once (a
/// deliberate POST); a visitor activates it and is sent to sign up or sign in.
pub async fn activate(
    app: &Context,
    user: Option<&Account>,
    token: &str,
    callback_url: Option<&str>,
    client: &ClientInfo,
) -> Result<Activation, ServiceError> {
    let callback = checked_callback(app, callback_url)?;
    if let Some(user) = user {
        super::email_verification::check_before_invite(app, user, token).await?;
        let used = use_invite(app, user.actor(), token, false, client).await?;
        return Ok(Activation::Used {
            redirect_to: used.redirect_to,
        });
    }
    activate_only(app, None, token, callback, client).await
}

/// A `callbackURL` (activation, sign-in) must be a relative path or on a trusted
/// origin; otherwise the refusal of Better Auth's origin check: 403 `INVALID_CALLBACK_URL`.
pub fn checked_callback(
    app: &Context,
    callback_url: Option<&str>,
) -> Result<Option<String>, ServiceError> {
    callback_url
        .map(|c| {
            redirect::check(c, &app.settings.trusted_origins).map_err(|refused| {
                ServiceError::Forbidden {
                    code: "INVALID_CALLBACK_URL",
                    message: format!("Invalid callbackURL: {refused}"),
                }
            })
        })
        .transpose()
}

/// Records the activation and tells where to sign up or sign in. Never uses the
/// invite: that is what `GET /invite/{token}` does, for anyone, signed in or not.
pub async fn activate_only(
    app: &Context,
    user: Option<&Account>,
    token: &str,
    callback: Option<String>,
    client: &ClientInfo,
) -> Result<Activation, ServiceError> {
    let at = app.clock.now();
    let by = user.map(Account::actor);
    let (id, result) = run(app, token, InviteCommand::Activate { by, at }).await;
    let position = match expire_if_needed(app, &id, result).await {
        Ok(position) => position,
        Err(refused) => {
            let tried = Tried {
                user_id: user.map(|u| u.id.as_str()),
                email: user.map(|u| u.email.as_str()),
                client,
            };
            refusals::record(app, &id, Attempt::Activation, &refused, tried).await;
            return Err(refused);
        }
    };
    app.written(position);
    let redirect_to = match callback {
        Some(callback) => callback,
        None => {
            let invite = app.ledger.load_invite(&id).await?;
            let terms = invite.terms().ok_or(InviteError::NotFound)?;
            terms.sign_in_up_page().to_string()
        }
    };
    Ok(Activation::SignInUpRequired { redirect_to })
}

pub struct Used {
    pub role: String,
    pub redirect_to: String,
    /// Where the use was recorded; none for an answer about a use recorded before.
    pub position: Option<crate::ledger::Position>,
}

/// Uses the invite for `user`: the `Used` event is the role change and its
/// record at once, so neither can exist without the other.
pub async fn use_invite(
    app: &Context,
    user: Actor,
    token: &str,
    new_account: bool,
    client: &ClientInfo,
) -> Result<Used, ServiceError> {
    let (user_id, email) = (user.user_id.clone(), user.email.clone());
    if app.settings.email_domains.has_rules() {
        check_public_invite_domain(app, token, &email).await?;
    }
    let command = InviteCommand::Use {
        user,
        new_account,
        at: app.clock.now(),
    };
    let (id, result) = run(app, token, command).await;
    let position = match expire_if_needed(app, &id, result).await {
        Ok(position) => position,
        Err(refused) => {
            let tried = Tried {
                user_id: Some(&user_id),
                email: Some(&email),
                client,
            };
            refusals::record(app, &id, Attempt::Use, &refused, tried).await;
            return Err(refused);
        }
    };
    app.written(position);
    Ok(Used {
        position,
        ..used(app, &id, token).await?
    })
}

/// What the use of the invite `id` (opened by `token`) gave: its role and
/// where to go next, from the invite's own events (the read model may not
/// show the use yet).
pub async fn used(app: &Context, id: &str, token: &str) -> Result<Used, ServiceError> {
    let invite = app.ledger.load_invite(id).await?;
    let terms = invite.terms().ok_or(InviteError::NotFound)?;
    // The plugin fills `{token}` in the after-upgrade page with the invite's token.
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    Ok(Used {
        role: terms.role.clone(),
        redirect_to: terms.redirect_to_after_upgrade.replace("{token}", &token),
        position: None,
    })
}

/// An invite found expired gets its `Expired` event, then the caller its error.
pub async fn expire_if_needed(
    app: &Context,
    id: &str,
    result: CommandResult,
) -> Result<Option<crate::ledger::Position>, ServiceError> {
    if let Err(crate::ledger::LedgerError::Domain(InviteError::Expired)) = &result {
        let expire = InviteCommand::Expire {
            at: app.clock.now(),
        };
        match app.ledger.execute(id, expire, &Guard::default()).await {
            Ok(position) => app.written(position),
            Err(error) => tracing::warn!(%error, "could not record the expiry"),
        }
    }
    Ok(result?)
}

/// What `GET /invite/get` tells: enough to show the invitee what they accept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteInfo {
    pub status: bool,
    pub inviter: InviterInfo,
    pub invitation: InvitationInfo,
}

/// The inviter, when the invite shares their name; fields are `null` otherwise.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InviterInfo {
    pub name: Option<String>,
    pub email: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationInfo {
    pub id: Uuid,
    pub role: String,
    /// A private invite's email (the plugin's `email`); `null` for a public one.
    pub email: Option<String>,
    /// The plugin's `emails`: the private invite's email, or none.
    pub emails: Vec<String>,
    pub new_account: bool,
    pub private: bool,
    /// pending | used_up | cancelled | rejected | expired
    pub status: InviteStatus,
    pub valid: bool,
    pub token_type: String,
    /// 1 when `infinityMaxUses` (as better-invite stores it).
    pub max_uses: i32,
    /// Unlimited uses (better-invite's `infinityMaxUses`).
    pub infinity_max_uses: bool,
    pub uses: i32,
    /// `null` when the invite has unlimited uses.
    pub uses_left: Option<i32>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub expires_at: DateTime<Utc>,
}

pub async fn get(
    app: &Context,
    viewer: Option<&Account>,
    token: &str,
    guessing: &Check,
) -> Result<InviteInfo, ServiceError> {
    let row = find_checked(app, token, guessing)
        .await?
        .ok_or(InviteError::NotFound)?;
    let status = row.status_at(app.clock.now());
    let shared = row.share_inviter_name;
    let uses_left = row.uses_left();
    Ok(InviteInfo {
        status: true,
        inviter: InviterInfo {
            name: shared.then(|| row.inviter_name.clone()),
            email: shared.then(|| row.inviter_email.clone()),
            image: None,
        },
        invitation: InvitationInfo {
            id: row.id,
            role: row.role,
            emails: row.email.clone().into_iter().collect(),
            email: row.email.clone(),
            new_account: match row.email {
                Some(_) => row.new_account,
                None => viewer.is_none(),
            },
            private: row.email.is_some(),
            valid: status == InviteStatus::Pending,
            status,
            token_type: row.token_type,
            max_uses: row.max_uses,
            infinity_max_uses: row.infinity_max_uses,
            uses: row.uses,
            uses_left,
            created_at: row.created_at,
            expires_at: row.expires_at,
        },
    })
}

/// The hash of an invite's token (its aggregate id), found by the invite's id:
/// how a creator names a private invite whose token only its email carried.
pub async fn token_hash_of(app: &Context, invite_id: Uuid) -> Result<Option<String>, ServiceError> {
    let read = || {
        sqlx::query_scalar("SELECT token_hash FROM invite WHERE id = $1")
            .bind(invite_id)
            .fetch_optional(&app.pool)
    };
    match read().await? {
        None if app.see_the_log().await? => Ok(read().await?),
        found => Ok(found),
    }
}

/// The aggregate id of the invite behind `token`: the hash it is stored under
/// (keyed, or plain for an invite made before hashes were keyed), or the keyed
/// hash when no invite has it.
pub async fn id_of_token(app: &Context, token: &str) -> Result<String, ServiceError> {
    Ok(match find(app, token).await? {
        Some(row) => row.token_hash,
        None => app.settings.token_hasher.keyed(token),
    })
}

/// What a creator (or an admin) asks of an invite they name.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Cancel it.
    Cancel,
    /// Send the invitation email again: a `Resent` event the email reactor follows.
    Resend,
}

impl Change {
    fn command(self, by: Actor, at: DateTime<Utc>) -> InviteCommand {
        match self {
            Change::Cancel => InviteCommand::Cancel { by, at },
            Change::Resend => InviteCommand::Resend { by, at },
        }
    }

    fn answer(self) -> Done {
        match self {
            Change::Cancel => Done::cancelled(),
            Change::Resend => Done::resent(),
        }
    }
}

/// Cancels or resends the invite `id` (its token's hash); the answer is kept
/// for a retry with the same idempotency key.
pub async fn change(
    app: &Context,
    user: &Account,
    id: &str,
    change: Change,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Done, ServiceError> {
    let may_cancel =
        app.settings.config.can_cancel_invite || app.settings.roles.is_admin(&user.role);
    if matches!(change, Change::Cancel) && !may_cancel {
        // `canCancelInvite: false`: only admins cancel.
        return Err(ServiceError::bad_request(
            "INSUFFICIENT_PERMISSIONS",
            "Invites cannot be cancelled here",
        ));
    }
    let (by, at) = (user.actor(), app.clock.now());
    let answer = change.answer();
    let guard = Guard {
        quota: None,
        receipt: idempotent.map(|r| r.receipt(app, at, move |_| kept(&change.answer()))),
        ..Guard::default()
    };
    let result = app.ledger.execute(id, change.command(by, at), &guard).await;
    finish(app, id, result).await?;
    Ok(answer)
}

pub async fn reject(app: &Context, user: &Account, token: &str) -> Result<(), ServiceError> {
    if !app.settings.config.can_reject_invite {
        // `canRejectInvite: false`.
        return Err(ServiceError::bad_request(
            "CANT_REJECT_INVITE",
            "Invites cannot be rejected here",
        ));
    }
    let (by, at) = (user.actor(), app.clock.now());
    let (id, result) = run(app, token, InviteCommand::Reject { by, at }).await;
    finish(app, &id, result).await
}

/// Records an expiry the command ran into, and waits until the read models
/// show the outcome.
async fn finish(app: &Context, id: &str, result: CommandResult) -> Result<(), ServiceError> {
    let position = expire_if_needed(app, id, result).await?;
    app.written(position);
    Ok(())
}
