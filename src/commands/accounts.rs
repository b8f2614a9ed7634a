//! Accounts: sign-up, sign-in and roles, with the invite hook of the plugin
//! (an activated invite is used after a successful sign-up or sign-in).

use chrono::Duration;

use super::client::ClientInfo;
use super::email_verification;
use super::idempotency::IdempotentRequest;
use super::invites;
use super::refusals::{self, Attempt, Tried};
use crate::auth::accounts::{self, Account};
use crate::auth::email_verifications::Purpose;
use crate::auth::password;
use crate::auth::passwords::{self, PasswordSet};
use crate::auth::session::{self, NewSession};
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::invite::{Actor, InviteCommand, InviteError};
use crate::domain::normalize_email;
use crate::domain::user::{UserCommand, UserError};
use crate::error::ServiceError;
use crate::ledger::{Guard, JointError, LedgerError, Position};
use crate::projections::appended::{rows_after, rows_made};
use crate::projections::user_account::UserAccounts;

pub struct SignUp {
    pub email: String,
    pub password: String,
    pub name: String,
    /// Where a verification link leads (`REQUIRE_EMAIL_VERIFICATION`), checked.
    pub callback_url: Option<String>,
}

/// What happened to the invite that came with a sign-up or sign-in.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteReport {
    /// Whether the invite was used (the role is set).
    pub used: bool,
    /// Why it was not, e.g. `INVITE_EXPIRED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The invite's after-upgrade page, once used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
}

impl InviteReport {
    fn used(used: &invites::Used) -> Self {
        InviteReport {
            used: true,
            code: None,
            message: Some(format!("Role set to {}", used.role)),
            redirect_to: Some(used.redirect_to.clone()),
        }
    }
}

pub struct SignedIn {
    pub account: Account,
    /// `None` for a sign-up that must verify its address first.
    pub session: Option<NewSession>,
    /// `None` when no invite came with the request.
    pub invite: Option<InviteReport>,
}

pub async fn sign_up(
    app: &Context,
    request: SignUp,
    invite_token: Option<&str>,
    client: ClientInfo,
) -> Result<SignedIn, ServiceError> {
    let config = &app.settings.config;
    let email = Email::parse(&request.email)?.into_string();
    let name = super::names::checked_name(&request.name)?;
    let length = request.password.chars().count();
    if length < config.passwords.min_password_length {
        return Err(ServiceError::bad_request(
            "PASSWORD_TOO_SHORT",
            "Password too short",
        ));
    }
    if length > 128 {
        return Err(ServiceError::bad_request(
            "PASSWORD_TOO_LONG",
            "Password too long",
        ));
    }
    if config.invite_only && invite_token.is_none() {
        return Err(ServiceError::Forbidden {
            code: "INVITE_REQUIRED",
            message: "Sign-up needs an invite".into(),
        });
    }
    let password_hash = password::hash(request.password, app.settings.password_cost).await?;
    let registration = Registration {
        user_id: super::person_ids::for_new_account(&app.pool, &email).await?,
        email,
        name,
        password_hash,
    };
    let callback = request.callback_url;
    if let (true, Some(token)) = (config.invite_only, invite_token) {
        return sign_up_by_invite(app, registration, token, callback, client).await;
    }
    let role = app.settings.roles.default_role().to_string();
    let account = register(app, registration, role, false).await?;
    send_first_verification(app, &account, callback.as_deref()).await?;
    finish_sign_in(app, account, invite_token, true, client).await
}

/// With `REQUIRE_EMAIL_VERIFICATION`, a new account is sent its link at once
/// (Better Auth's `sendOnSignUp`, which follows that option).
async fn send_first_verification(
    app: &Context,
    account: &Account,
    callback_url: Option<&str>,
) -> Result<(), ServiceError> {
    if email_verification::held_back(app, account) {
        email_verification::send_link(app, account, Purpose::Verify, &account.email, callback_url)
            .await?;
    }
    Ok(())
}

/// A checked sign-up, not yet in the ledger.
struct Registration {
    user_id: String,
    email: String,
    name: String,
    password_hash: String,
}

async fn register(
    app: &Context,
    registration: Registration,
    role: String,
    email_verified: bool,
) -> Result<Account, ServiceError> {
    let Registration {
        user_id,
        email,
        name,
        password_hash,
    } = registration;
    // An account that moved to this address (`change-email`) has it now.
    if accounts::by_email(&app.pool, &email).await?.is_some() {
        return Err(ServiceError::User(UserError::AlreadyExists));
    }
    let at = app.clock.now();
    let command = UserCommand::Register {
        email,
        name,
        role,
        email_verified,
        at,
    };
    let guard = Guard {
        password: Some(PasswordSet {
            user_id: user_id.clone(),
            hash: password_hash,
            at,
        }),
        ..Guard::default()
    };
    let position = app.ledger.execute(&user_id, command, &guard).await?;
    app.written(position);
    let position =
        position.ok_or_else(|| anyhow::anyhow!("registering {user_id} appended nothing"))?;
    registered(app, &user_id, position).await
}

/// The account an append registered, folded from that append's own events.
async fn registered(
    app: &Context,
    user_id: &str,
    position: Position,
) -> Result<Account, ServiceError> {
    let made = rows_made::<UserAccounts>(&app.pool, position).await?;
    Ok(made
        .into_iter()
        .find(|account| account.id == user_id)
        .ok_or_else(|| anyhow::anyhow!("registering {user_id} made no account"))?)
}

/// Invite-only sign-up, as one step: the account and the invite's use are
/// recorded together or not at all. Concurrent sign-ups can never outnumber
/// `maxUses`, a failed registration gives no seat away, and the new account
/// always shows who invited it.
async fn sign_up_by_invite(
    app: &Context,
    registration: Registration,
    token: &str,
    callback_url: Option<String>,
    client: ClientInfo,
) -> Result<SignedIn, ServiceError> {
    if accounts::by_email(&app.pool, &registration.email)
        .await?
        .is_some()
    {
        return Err(ServiceError::User(UserError::AlreadyExists));
    }
    if app.settings.email_domains.has_rules() {
        invites::check_public_invite_domain(app, token, &registration.email).await?;
    }
    let default_role = app.settings.roles.default_role().to_string();
    let at = app.clock.now();
    let use_invite = InviteCommand::Use {
        user: Actor {
            user_id: registration.user_id.clone(),
            email: registration.email.clone(),
            name: registration.name.clone(),
            role: default_role.clone(),
        },
        new_account: true,
        at,
    };
    let (user_id, email) = (registration.user_id.clone(), registration.email.clone());
    let register = UserCommand::Register {
        email: registration.email,
        name: registration.name,
        role: default_role,
        email_verified: false,
        at,
    };
    let guard = Guard {
        password: Some(PasswordSet {
            user_id: user_id.clone(),
            hash: registration.password_hash,
            at,
        }),
        ..Guard::default()
    };
    // Invites made before token hashes were keyed are found by their old hash.
    let [keyed, legacy] = app.settings.token_hasher.candidates(token);
    let mut id = keyed;
    let mut result = app
        .ledger
        .register_with_invite(&id, use_invite.clone(), &user_id, register.clone(), &guard)
        .await;
    if let Err(JointError::Invite(LedgerError::Domain(InviteError::NotFound))) = &result {
        id = legacy;
        result = app
            .ledger
            .register_with_invite(&id, use_invite, &user_id, register, &guard)
            .await;
    }
    let position = match result {
        Ok(position) => position,
        Err(JointError::Invite(refused)) => {
            let refused = match invites::expire_if_needed(app, &id, Err(refused)).await {
                Err(refused) => refused,
                Ok(_) => anyhow::anyhow!("a refused sign-up was recorded as done").into(),
            };
            let tried = Tried {
                user_id: Some(&user_id),
                email: Some(&email),
                client: &client,
            };
            refusals::record(app, &id, Attempt::Use, &refused, tried).await;
            return Err(refused);
        }
        Err(JointError::User(refused)) => return Err(refused.into()),
    };
    app.written(Some(position));
    let used = invites::used(app, &id, token).await?;
    let account = registered(app, &user_id, position).await?;
    send_first_verification(app, &account, callback_url.as_deref()).await?;
    open_session(app, account, Some(InviteReport::used(&used)), client).await
}

pub async fn sign_in(
    app: &Context,
    email: &str,
    password_given: String,
    invite_token: Option<&str>,
    client: ClientInfo,
) -> Result<SignedIn, ServiceError> {
    let email = normalize_email(email);
    let mut account = accounts::by_email(&app.pool, &email).await?;
    // Registered through another replica, perhaps, and not in this one's view yet.
    if account.is_none() && app.see_the_log().await? {
        account = accounts::by_email(&app.pool, &email).await?;
    }
    // Verify against something even for unknown emails, so timing tells nothing.
    let stored = match &account {
        Some(a) => passwords::hash_of(&app.pool, &a.id).await?,
        None => None,
    };
    let stored = match stored {
        Some(hash) => hash,
        None => dummy_hash(app).await?,
    };
    let valid = password::verify(password_given, stored).await;
    let Some(account) = account.filter(|_| valid) else {
        return Err(ServiceError::InvalidCredentials);
    };
    let now = app.clock.now();
    if account.banned && account.ban_expires.is_none_or(|until| until > now) {
        // The admin plugin's refusal; only the right password learns of the ban.
        return Err(ServiceError::Forbidden {
            code: "BANNED_USER",
            message: "You have been banned from this application".into(),
        });
    }
    if email_verification::held_back(app, &account) {
        return Err(email_verification::not_verified());
    }
    finish_sign_in(app, account, invite_token, false, client).await
}

/// A hash at the configured cost, verified for unknown emails.
async fn dummy_hash(app: &Context) -> Result<String, ServiceError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let cost = app.settings.password_cost;
    Ok(DUMMY
        .get_or_try_init(|| password::hash("not anyone's password".into(), cost))
        .await?
        .clone())
}

async fn use_invite_when_verified(
    app: &Context,
    account: &Account,
    token: &str,
    new_account: bool,
    client: &ClientInfo,
) -> Result<invites::Used, ServiceError> {
    email_verification::check_before_invite(app, account, token).await?;
    invites::use_invite(app, account.actor(), token, new_account, client).await
}

/// Uses the invite if one came along (its failure never blocks the sign-in),
/// then opens a session.
async fn finish_sign_in(
    app: &Context,
    mut account: Account,
    invite_token: Option<&str>,
    new_account: bool,
    client: ClientInfo,
) -> Result<SignedIn, ServiceError> {
    let invite = match invite_token {
        None => None,
        Some(token) => Some(
            match use_invite_when_verified(app, &account, token, new_account, &client).await {
                Ok(used) => {
                    // The account as the use left it (its role), from the use's own event.
                    if let Some(position) = used.position {
                        let id = account.id.clone();
                        account = rows_after::<UserAccounts>(&app.pool, position, vec![account])
                            .await?
                            .into_iter()
                            .find(|after| after.id == id)
                            .ok_or_else(|| anyhow::anyhow!("the use lost account {id}"))?;
                    }
                    InviteReport::used(&used)
                }
                Err(ServiceError::Internal(error)) => return Err(ServiceError::Internal(error)),
                Err(refused) => InviteReport {
                    used: false,
                    code: Some(refused.code()),
                    message: Some(refused.to_string()),
                    redirect_to: None,
                },
            },
        ),
    };
    open_session(app, account, invite, client).await
}

/// Opens a session, unless the account must verify its address first (a
/// sign-up then answers Better Auth's `token: null`).
async fn open_session(
    app: &Context,
    account: Account,
    invite: Option<InviteReport>,
    client: ClientInfo,
) -> Result<SignedIn, ServiceError> {
    if email_verification::held_back(app, &account) {
        return Ok(SignedIn {
            account,
            session: None,
            invite,
        });
    }
    let lifetime = Duration::seconds(app.settings.config.session_expires_in);
    let session = session::create(
        &app.pool,
        &account.id,
        app.clock.now(),
        lifetime,
        client.ip.map(|ip| ip.to_string()),
        client.user_agent,
    )
    .await?;
    Ok(SignedIn {
        account,
        session: Some(session),
        invite,
    })
}

/// How an idempotent request's answer is written from the account it shows.
pub type AnswerOf<'a> = &'a (dyn Fn(&Account) -> serde_json::Value + Send + Sync);

/// An admin sets a user's role; recorded in the ledger like every role change.
/// With an idempotency key, the receipt keeps the answer `render` gives of
/// the account as the change leaves it, and that account is returned.
pub async fn set_role(
    app: &Context,
    admin: &Account,
    user_id: &str,
    role: &str,
    idempotent: Option<(&IdempotentRequest, AnswerOf<'_>)>,
) -> Result<Account, ServiceError> {
    let mut target = accounts::by_id(&app.pool, user_id).await?;
    if target.is_none() && app.see_the_log().await? {
        target = accounts::by_id(&app.pool, user_id).await?;
    }
    let target = target.ok_or(ServiceError::User(crate::domain::user::UserError::NotFound))?;
    let at = app.clock.now();
    let command = UserCommand::SetRole {
        role: role.to_string(),
        current_role: target.role.clone(),
        by_user_id: admin.id.clone(),
        by_role: admin.role.clone(),
        at,
    };
    // What the read model will show once the `RoleSet` is applied.
    let changed = Account {
        role: role.to_string(),
        updated_at: at,
        ..target.clone()
    };
    let answer = idempotent.map(|(_, render)| render(&changed));
    let guard = Guard {
        quota: None,
        receipt: idempotent
            .zip(answer)
            .map(|((request, _), answer)| request.receipt(app, at, move |_| answer.clone())),
        ..Guard::default()
    };
    let position = app.ledger.execute(user_id, command, &guard).await?;
    app.written(position);
    // Nothing appended: the role was already this one.
    Ok(if position.is_some() { changed } else { target })
}

/// Creates an account with any configured role, its address verified: the
/// operator's way to make the first admin, from the command line.
pub async fn create_user(
    app: &Context,
    email: &str,
    password: String,
    name: &str,
    role: &str,
) -> Result<Account, ServiceError> {
    let email = Email::parse(email)?.into_string();
    if password.chars().count() < app.settings.config.passwords.min_password_length {
        return Err(ServiceError::bad_request(
            "PASSWORD_TOO_SHORT",
            "Password too short",
        ));
    }
    let registration = Registration {
        user_id: super::person_ids::for_new_account(&app.pool, &email).await?,
        email,
        name: name.trim().to_string(),
        password_hash: password::hash(password, app.settings.password_cost).await?,
    };
    // The operator vouches for the address of an account made by hand.
    register(app, registration, role.to_string(), true).await
}
