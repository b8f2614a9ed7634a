//! The invite commands of `/api/companion/invite/*`: the ledger's own rules
//! (`commands::invites`: role policy, no self-escalation, quotas, domain rules,
//! idempotency), in the name of a Better Auth user. Answers carry the invite's
//! facts; the plugin shapes them as `better-invite` answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::people::{person, CompanionUser};
use super::Caller;
use crate::auth::accounts::Account;
use crate::commands::client::ClientInfo;
use crate::commands::idempotency::IdempotentRequest;
use crate::commands::invites::{self as ledger_invites, TermsOptions};
use crate::commands::quota;
use crate::commands::refusals::{self, Attempt, Tried};
use crate::config::SenderResponseRedirect;
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::invite::{InviteCommand, InviteError, InviteTerms};
use crate::domain::token::TokenType;
use crate::error::ServiceError;
use crate::ledger::{stored, Guard, LedgerError, Position};
use crate::projections::invite::{InviteRow, InviteStatus};
use crate::queries;

const MAX_TOKEN_LENGTH: usize = 255;
const MAX_LIST_LIMIT: i64 = 1000;

/// Who sends a private invite's email.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Delivery {
    /// The ledger's email reactor (its templates and SMTP).
    #[default]
    Ledger,
    /// The plugin (`sendUserInvitation`): the ledger sends nothing and keeps no
    /// sealed copy of the token.
    Plugin,
}

/// `POST /api/companion/invite/create`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanionCreate {
    pub actor: CompanionUser,
    pub role: String,
    pub email: Option<String>,
    pub token_type: Option<TokenType>,
    pub redirect_to_sign_up: Option<String>,
    pub redirect_to_sign_in: Option<String>,
    pub redirect_to_after_upgrade: Option<String>,
    pub max_uses: Option<i64>,
    /// Seconds.
    pub expires_in: Option<i64>,
    pub share_inviter_name: Option<bool>,
    pub sender_response_redirect: Option<SenderResponseRedirect>,
    /// The token, when the plugin makes it (`generateToken`): 1 to 255 visible
    /// ASCII characters; the ledger keeps only its keyed hash.
    pub token: Option<String>,
    /// For a private invite: whether Better Auth has no user with this email
    /// (the plugin knows); the ledger's own accounts decide when absent.
    pub new_account: Option<bool>,
    #[serde(default)]
    pub delivery: Delivery,
}

/// An invite's facts, as the ledger holds them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanionInvite {
    pub id: Uuid,
    pub role: String,
    /// A private invite's email; `null` for a public one.
    pub email: Option<String>,
    pub private: bool,
    pub new_account: bool,
    pub token_type: String,
    /// The Better Auth user id (or ledger account id) of the inviter.
    pub inviter_id: String,
    pub inviter_name: String,
    pub inviter_email: String,
    pub share_inviter_name: bool,
    pub max_uses: i32,
    pub uses: i32,
    pub uses_left: i32,
    /// pending | used_up | cancelled | rejected | expired, as of now.
    pub status: InviteStatus,
    pub redirect_to_sign_up: String,
    pub redirect_to_sign_in: String,
    pub redirect_to_after_upgrade: String,
    /// `signUp` or `signIn`: where a public invite's link leads.
    pub sender_response_redirect: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub expires_at: DateTime<Utc>,
}

impl CompanionInvite {
    pub fn from_row(row: InviteRow, now: DateTime<Utc>) -> Self {
        CompanionInvite {
            status: row.status_at(now),
            private: row.email.is_some(),
            uses_left: (row.max_uses - row.uses).max(0),
            id: row.id,
            role: row.role,
            email: row.email,
            new_account: row.new_account,
            token_type: row.token_type,
            inviter_id: row.inviter_id,
            inviter_name: row.inviter_name,
            inviter_email: row.inviter_email,
            share_inviter_name: row.share_inviter_name,
            max_uses: row.max_uses,
            uses: row.uses,
            redirect_to_sign_up: row.redirect_to_sign_up,
            redirect_to_sign_in: row.redirect_to_sign_in,
            redirect_to_after_upgrade: row.redirect_to_after_upgrade,
            sender_response_redirect: row.sender_response_redirect,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }

    /// A new invite, before the read model shows it (for its receipt).
    fn from_terms(terms: &InviteTerms, inviter: &Account, at: DateTime<Utc>) -> Self {
        CompanionInvite {
            id: terms.invite_id,
            role: terms.role.clone(),
            email: terms.email.clone(),
            private: terms.email.is_some(),
            new_account: terms.new_account,
            token_type: terms.token_type.as_str().to_string(),
            inviter_id: inviter.id.clone(),
            inviter_name: inviter.name.clone(),
            inviter_email: inviter.email.clone(),
            share_inviter_name: terms.share_inviter_name,
            max_uses: terms.max_uses as i32,
            uses: 0,
            uses_left: terms.max_uses as i32,
            status: InviteStatus::Pending,
            redirect_to_sign_up: terms.redirect_to_sign_up.clone(),
            redirect_to_sign_in: terms.redirect_to_sign_in.clone(),
            redirect_to_after_upgrade: terms.redirect_to_after_upgrade.clone(),
            sender_response_redirect: terms.sender_response_redirect.clone(),
            created_at: at,
            expires_at: terms.expires_at,
        }
    }
}

/// The answer of `create`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanionCreated {
    pub invite_id: Uuid,
    /// The raw token: handed out this once (the plugin's own, if it gave one).
    pub token: String,
    pub invitation: CompanionInvite,
}

fn checked_token(token: &str) -> Result<String, ServiceError> {
    let visible = token.bytes().all(|b| b.is_ascii_graphic());
    if token.is_empty() || token.len() > MAX_TOKEN_LENGTH || !visible {
        return Err(ServiceError::bad_request(
            "INVALID_TOKEN_FORMAT",
            format!("A token is 1 to {MAX_TOKEN_LENGTH} visible ASCII characters"),
        ));
    }
    Ok(token.to_string())
}

pub async fn create(
    app: &Context,
    caller: Caller,
    request: CompanionCreate,
    idempotent: Option<&IdempotentRequest>,
) -> Result<CompanionCreated, ServiceError> {
    let inviter = person(app, caller, &request.actor).await?;
    let given_token = request.token.as_deref().map(checked_token).transpose()?;
    let email = match request.email.as_deref() {
        Some(raw) => Some(Email::parse(raw)?.into_string()),
        None => None,
    };
    let new_account = match (&email, request.new_account) {
        (Some(_), Some(given)) => given,
        (Some(email), None) => crate::auth::accounts::by_email(&app.pool, email)
            .await?
            .is_none(),
        (None, _) => true,
    };
    let options = TermsOptions {
        token_type: request.token_type,
        redirect_to_sign_up: request.redirect_to_sign_up.clone(),
        redirect_to_sign_in: request.redirect_to_sign_in.clone(),
        redirect_to_after_upgrade: request.redirect_to_after_upgrade.clone(),
        // The Better Auth plugin has options of its own: `INFINITY_MAX_USES` is
        // the standalone server's, so a companion invite always has a limit.
        max_uses: request
            .max_uses
            .or(Some(app.settings.config.default_max_uses.into())),
        expires_in: request.expires_in,
        share_inviter_name: request.share_inviter_name,
        sender_response_redirect: request.sender_response_redirect,
        custom_invite_url: None,
    };
    // One reading of the clock: the invite's `at` and its expiry.
    let now = app.clock.now();
    let terms =
        ledger_invites::terms_for(app, now, &request.role, email, None, new_account, &options)?;
    let quota = quota::guard_for(app, &inviter);
    let settings = &app.settings;
    // A drawn token may collide (short codes): draw again. A given one may not.
    let mut attempts = 0;
    let (created, position) = loop {
        let token = match &given_token {
            Some(token) => token.clone(),
            None => ledger_invites::create_command(app, &inviter, &terms, now).0,
        };
        let hash = settings.token_hasher.keyed(&token);
        let mut terms = terms.clone();
        let ledger_sends = request.delivery == Delivery::Ledger;
        terms.sealed_token = (terms.email.is_some() && ledger_sends)
            .then(|| settings.token_seal.seal(&token, &hash));
        let at = now;
        // The answer, now and on a replay, is the invite as its terms make it.
        let created = CompanionCreated {
            invite_id: terms.invite_id,
            token: token.clone(),
            invitation: CompanionInvite::from_terms(&terms, &inviter, at),
        };
        let answer = serde_json::to_value(&created).map_err(anyhow::Error::from)?;
        let guard = Guard {
            quota: quota.clone(),
            receipt: idempotent.map(|r| r.receipt(app, at, move |_| answer.clone())),
            ..Guard::default()
        };
        let command = InviteCommand::Create {
            terms,
            inviter: inviter.actor(),
            at,
        };
        match app.ledger.execute(&hash, command, &guard).await {
            Err(LedgerError::Domain(InviteError::TokenTaken))
                if given_token.is_none() && attempts < 5 =>
            {
                attempts += 1;
            }
            result => break (created, result?),
        }
    };
    app.written(position);
    Ok(created)
}

/// `POST /api/companion/invite/get`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The acting user, when signed in.
    #[serde(default)]
    pub actor: Option<CompanionUser>,
    pub token: String,
}

/// What `/invite/get` tells (the standalone answer), with the invite's facts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanionInviteAnswer {
    pub status: bool,
    /// The inviter, when the invite shares their name; fields are `null` otherwise.
    pub inviter: ledger_invites::InviterInfo,
    /// `email` is shown only to its invitee and to the inviter (`null` to others);
    /// `newAccount` of a public invite is whether no one is signed in.
    pub invitation: CompanionInvite,
}

pub async fn get(
    app: &Context,
    viewer: Option<&CompanionUser>,
    token: &str,
) -> Result<CompanionInviteAnswer, ServiceError> {
    let row = ledger_invites::find(app, token)
        .await?
        .ok_or(InviteError::NotFound)?;
    let viewer = viewer.map(|v| v.checked(app)).transpose()?;
    let shared = row.share_inviter_name;
    let inviter = ledger_invites::InviterInfo {
        name: shared.then(|| row.inviter_name.clone()),
        email: shared.then(|| row.inviter_email.clone()),
        image: None,
    };
    let mut invitation = CompanionInvite::from_row(row, app.clock.now());
    let may_see_email = viewer.as_ref().is_some_and(|v| {
        v.id == invitation.inviter_id || invitation.email.as_deref() == Some(v.email.as_str())
    });
    if !may_see_email {
        invitation.email = None;
    }
    if !invitation.private {
        invitation.new_account = viewer.is_none();
    }
    Ok(CompanionInviteAnswer {
        status: true,
        inviter,
        invitation,
    })
}

/// `POST /api/companion/invite/list`: the invites the actor created.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRequest {
    pub actor: CompanionUser,
    /// At most 1000; all (up to 1000) when absent.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Only invites whose email contains this text (case-insensitive).
    pub email_contains: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanionInviteList {
    pub invitations: Vec<CompanionInvite>,
    /// Every matching invite, beyond this page.
    pub total: i64,
}

pub async fn list(
    app: &Context,
    caller: Caller,
    request: ListRequest,
) -> Result<CompanionInviteList, ServiceError> {
    let inviter = person(app, caller, &request.actor).await?;
    let limit = request
        .limit
        .unwrap_or(MAX_LIST_LIMIT)
        .clamp(0, MAX_LIST_LIMIT);
    let offset = request.offset.unwrap_or(0).max(0);
    let (rows, total) = queries::companion::created_by(
        &app.pool,
        &inviter.id,
        request.email_contains.as_deref(),
        limit,
        offset,
    )
    .await?;
    let now = app.clock.now();
    Ok(CompanionInviteList {
        invitations: rows
            .into_iter()
            .map(|row| CompanionInvite::from_row(row, now))
            .collect(),
        total,
    })
}

/// `cancel` and `reject`: `{actor, token}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActorTokenRequest {
    pub actor: CompanionUser,
    pub token: String,
}

/// `{status: true, message}`: what `cancel` and `reject` answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CompanionDone)]
pub struct Done {
    pub status: bool,
    pub message: String,
}

pub async fn cancel(
    app: &Context,
    caller: Caller,
    request: ActorTokenRequest,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Done, ServiceError> {
    let user = person(app, caller, &request.actor).await?;
    let id = ledger_invites::id_of_token(app, &request.token).await?;
    ledger_invites::change(app, &user, &id, ledger_invites::Change::Cancel, idempotent).await?;
    Ok(Done {
        status: true,
        message: "Invite cancelled".into(),
    })
}

pub async fn reject(
    app: &Context,
    caller: Caller,
    request: ActorTokenRequest,
) -> Result<Done, ServiceError> {
    let user = person(app, caller, &request.actor).await?;
    ledger_invites::reject(app, &user, &request.token).await?;
    Ok(Done {
        status: true,
        message: "Invite rejected".into(),
    })
}

/// `POST /api/companion/invite/use`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UseRequest {
    pub actor: CompanionUser,
    pub token: String,
}

/// A role the ledger decided: apply it compare-and-set on `position`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDecision {
    pub user_id: String,
    pub role: String,
    pub role_before: String,
    /// The decision's log position, `xid/global` (see the protocol's
    /// compare-and-set rule).
    pub position: Option<String>,
    pub redirect_to_after_upgrade: String,
}

/// Uses the invite for a signed-in Better Auth user; a retry with the same
/// `Idempotency-Key` gets the first answer and takes no second seat.
pub async fn use_invite(
    app: &Context,
    caller: Caller,
    request: UseRequest,
    idempotent: Option<&IdempotentRequest>,
) -> Result<RoleDecision, ServiceError> {
    use_kept_as(app, caller, request, idempotent, |decision, _| {
        serde_json::to_value(decision)
    })
    .await
}

/// `use_invite`, its receipt's answer shaped by `kept` from the decision and
/// the invite (as the route that used it answers).
async fn use_kept_as(
    app: &Context,
    caller: Caller,
    request: UseRequest,
    idempotent: Option<&IdempotentRequest>,
    kept: impl Fn(RoleDecision, CompanionInvite) -> serde_json::Result<serde_json::Value>,
) -> Result<RoleDecision, ServiceError> {
    let user = person(app, caller, &request.actor).await?;
    route_roles_of(app, caller, &user).await?;
    let token = request.token;
    if app.settings.email_domains.has_rules() {
        ledger_invites::check_public_invite_domain(app, &token, &user.email).await?;
    }
    let row = ledger_invites::find(app, &token).await?;
    let id = match &row {
        Some(row) => row.token_hash.clone(),
        None => app.settings.token_hasher.keyed(&token),
    };
    let at = app.clock.now();
    let answer = row.as_ref().map(|row| RoleDecision {
        user_id: user.id.clone(),
        role: row.role.clone(),
        role_before: user.role.clone(),
        position: None,
        redirect_to_after_upgrade: row.redirect_to_after_upgrade.clone(),
    });
    let guard = Guard {
        quota: None,
        receipt: match (idempotent, answer, row) {
            (Some(r), Some(answer), Some(row)) => {
                let invitation = CompanionInvite::from_row(row, at);
                let kept = kept(answer, invitation).map_err(anyhow::Error::from)?;
                Some(r.receipt(app, at, move |_| kept.clone()))
            }
            _ => None,
        },
        ..Guard::default()
    };
    let command = InviteCommand::Use {
        user: user.actor(),
        new_account: false,
        at,
    };
    let result = app.ledger.execute(&id, command, &guard).await;
    let position = match ledger_invites::expire_if_needed(app, &id, result).await {
        Ok(position) => position,
        Err(refused) => {
            let tried = Tried {
                user_id: Some(&user.id),
                email: Some(&user.email),
                client: &ClientInfo::default(),
            };
            refusals::record(app, &id, Attempt::Use, &refused, tried).await;
            return Err(refused);
        }
    };
    app.written(position);
    let used = ledger_invites::used(app, &id, &token).await?;
    Ok(RoleDecision {
        user_id: user.id,
        role: used.role,
        role_before: user.role,
        position: position.map(|p: Position| p.to_string()),
        redirect_to_after_upgrade: used.redirect_to,
    })
}

/// The position of the latest use of the invite behind `token` by `user_id`:
/// what a replayed `use` answer (kept before its position was known) carries.
pub async fn position_of_use(
    app: &Context,
    token: &str,
    user_id: &str,
) -> Result<Option<String>, ServiceError> {
    let id = ledger_invites::id_of_token(app, token).await?;
    let found: Option<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT transaction_id::text::bigint, global_position FROM events
          WHERE aggregate_type = 'invite' AND aggregate_id = $1 AND event_type = 'Used'
            AND {user_id} = $2
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
        user_id = stored::field_sql(None, stored::USED_USER_ID),
    ))
    .bind(&id)
    .bind(user_id)
    .fetch_optional(&app.pool)
    .await?;
    Ok(found.map(|(xid, global)| Position { xid, global }.to_string()))
}

/// A user the ledger knew before companion mode (its own account) gets its
/// roles delivered too, once it acts through the plugin.
async fn route_roles_of(app: &Context, caller: Caller, user: &Account) -> sqlx::Result<()> {
    super::people::route_roles(app, caller, &user.id).await
}

/// `POST /api/companion/invite/activate`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivateRequest {
    /// The signed-in user, if any: their use is recorded at once.
    #[serde(default)]
    pub actor: Option<CompanionUser>,
    pub token: String,
    /// A relative path or a URL on a trusted origin.
    #[serde(rename = "callbackURL")]
    pub callback_url: Option<String>,
}

/// The `action` of an activation that used the invite.
const USED: &str = "REDIRECT_TO_AFTER_UPGRADE";

/// What activation led to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CompanionActivated)]
pub struct Activated {
    /// `SIGN_IN_UP_REQUIRED`: a visitor, to send to `redirectTo` with the
    /// invite held; `REDIRECT_TO_AFTER_UPGRADE`: a signed-in actor whose use is
    /// recorded (`use` holds the decision).
    pub action: String,
    pub redirect_to: String,
    pub invitation: CompanionInvite,
    #[serde(rename = "use")]
    pub used: Option<RoleDecision>,
}

pub async fn activate(
    app: &Context,
    caller: Caller,
    request: ActivateRequest,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Activated, ServiceError> {
    let callback = ledger_invites::checked_callback(app, request.callback_url.as_deref())?;
    if let Some(actor) = request.actor {
        let use_request = UseRequest {
            actor,
            token: request.token.clone(),
        };
        let decision = use_kept_as(app, caller, use_request, idempotent, |decision, invite| {
            serde_json::to_value(Activated {
                action: USED.into(),
                redirect_to: decision.redirect_to_after_upgrade.clone(),
                invitation: invite,
                used: Some(decision),
            })
        })
        .await?;
        let row = ledger_invites::find(app, &request.token)
            .await?
            .ok_or(InviteError::NotFound)?;
        return Ok(Activated {
            action: USED.into(),
            redirect_to: decision.redirect_to_after_upgrade.clone(),
            invitation: CompanionInvite::from_row(row, app.clock.now()),
            used: Some(decision),
        });
    }
    let activation =
        ledger_invites::activate_only(app, None, &request.token, callback, &ClientInfo::default())
            .await?;
    let ledger_invites::Activation::SignInUpRequired { redirect_to } = activation else {
        return Err(anyhow::anyhow!("a visitor's activation used the invite").into());
    };
    let row = ledger_invites::find(app, &request.token)
        .await?
        .ok_or(InviteError::NotFound)?;
    Ok(Activated {
        action: "SIGN_IN_UP_REQUIRED".into(),
        redirect_to,
        invitation: CompanionInvite::from_row(row, app.clock.now()),
        used: None,
    })
}
