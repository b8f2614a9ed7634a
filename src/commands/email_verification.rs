//! Better Auth's email verification and change of email: single-use links
//! emailed through the email reactor (the token stored as a hash in the
//! `email_verification` table), each use an event of the person.

use chrono::Duration;

use super::invites;
use crate::auth::accounts::{self, Account};
use crate::auth::email_verifications::{self, NewLink, Purpose, Unusable};
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::normalize_email;
use crate::domain::token::random_token;
use crate::domain::user::{UserCommand, UserError, VerificationPurpose};
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::projections::model::ReadModel;
use crate::projections::user_account::UserAccounts;
use crate::rate_limit::Limit;

fn refused(code: &'static str, message: &str) -> ServiceError {
    ServiceError::bad_request(code, message)
}

/// Better Auth's refusal of an account whose address is not verified yet.
pub fn not_verified() -> ServiceError {
    ServiceError::Forbidden {
        code: "EMAIL_NOT_VERIFIED",
        message: "Email not verified".into(),
    }
}

/// Whether `REQUIRE_EMAIL_VERIFICATION` holds this account back. Better Auth
/// users (companion mode) are verified by their own server.
pub fn held_back(app: &Context, account: &Account) -> bool {
    app.settings.config.require_email_verification && account.own_account && !account.email_verified
}

/// A private invite is for its address: with `REQUIRE_EMAIL_VERIFICATION`, an
/// account uses one only once its own address is verified.
pub async fn check_before_invite(
    app: &Context,
    account: &Account,
    token: &str,
) -> Result<(), ServiceError> {
    if !held_back(app, account) {
        return Ok(());
    }
    match invites::find(app, token).await? {
        Some(invite) if invite.email.is_some() => Err(not_verified()),
        _ => Ok(()),
    }
}

/// Makes a link for `account` to `to` and records the request (the email
/// reactor sends it). Each address gets at most `VERIFICATION_EMAILS_PER_EMAIL`
/// links an hour; past that, nothing is sent and the answer stays the same.
pub async fn send_link(
    app: &Context,
    account: &Account,
    purpose: Purpose,
    to: &str,
    callback_url: Option<&str>,
) -> Result<(), ServiceError> {
    let config = &app.settings.config;
    let per_email = Limit {
        name: "verification-email",
        max: config.verification_emails_per_email,
        window: std::time::Duration::from_secs(3600),
    };
    if app.limiter.count(&per_email, to).await?.is_some() {
        return Ok(());
    }
    let now = app.clock.now();
    let token = random_token(&mut rand::thread_rng());
    let hash = app.settings.token_hasher.keyed(&token);
    let sealed = app.settings.token_seal.seal(&token, &hash);
    let link = NewLink {
        token_hash: &hash,
        sealed_token: &sealed,
        user_id: &account.id,
        purpose,
        email: to,
        callback_url,
        now,
        expires_at: now + Duration::seconds(config.email_verification_expires_in),
    };
    email_verifications::store(&app.pool, &link).await?;
    let purpose = match purpose {
        Purpose::Verify => VerificationPurpose::Verify,
        Purpose::Change => VerificationPurpose::ChangeEmail,
    };
    let command = UserCommand::RequestVerificationEmail { purpose, at: now };
    let position = app
        .ledger
        .execute(&account.id, command, &Guard::default())
        .await?;
    app.settle(position).await;
    Ok(())
}

/// `POST /send-verification-email`: signed in, for the user's own unverified
/// address; signed out, the same answer for every address (a link goes only
/// to an account not verified yet).
pub async fn send_verification_email(
    app: &Context,
    signed_in: Option<&Account>,
    email: &str,
    callback_url: Option<&str>,
) -> Result<(), ServiceError> {
    let email = normalize_email(email);
    let account = match signed_in {
        Some(account) => {
            if account.email != email {
                return Err(refused("EMAIL_MISMATCH", "Email mismatch"));
            }
            if account.email_verified {
                return Err(refused(
                    "EMAIL_ALREADY_VERIFIED",
                    "Email is already verified",
                ));
            }
            account.clone()
        }
        None => match accounts::by_email(&app.pool, &email).await? {
            Some(account) if account.own_account && !account.email_verified => account,
            _ => return Ok(()),
        },
    };
    send_link(app, &account, Purpose::Verify, &email, callback_url).await
}

/// What a used link did.
pub enum Verified {
    /// The address is verified now (or was already).
    Email,
    /// The account moved to the address the link proved.
    Changed(Box<Account>),
}

/// `GET /verify-email`: uses the link once. Its refusals are Better Auth's
/// codes: `INVALID_TOKEN` (unknown, used, or for an address the account no
/// longer has), `TOKEN_EXPIRED`, `USER_NOT_FOUND`, `INVALID_USER` (a change
/// of email opened in another user's session).
pub async fn verify(
    app: &Context,
    token: &str,
    signed_in: Option<&Account>,
) -> Result<Verified, ServiceError> {
    let hash = app.settings.token_hasher.keyed(token);
    let link = match email_verifications::consume(&app.pool, &hash, app.clock.now()).await? {
        Ok(link) => link,
        Err(Unusable::Expired) => return Err(refused("TOKEN_EXPIRED", "Token expired")),
        Err(Unusable::Invalid) => return Err(refused("INVALID_TOKEN", "Invalid token")),
    };
    let account = accounts::by_id(&app.pool, &link.user_id)
        .await?
        .ok_or(ServiceError::User(UserError::NotFound))?;
    let by_user_id = signed_in.map_or_else(|| account.id.clone(), |a| a.id.clone());
    let command = match link.purpose {
        Purpose::Verify => {
            if account.email != link.email {
                return Err(refused("INVALID_TOKEN", "Invalid token"));
            }
            if account.email_verified {
                return Ok(Verified::Email);
            }
            UserCommand::VerifyEmail {
                by_user_id,
                at: app.clock.now(),
            }
        }
        Purpose::Change => {
            if signed_in.is_some_and(|user| user.id != account.id) {
                return Err(refused("INVALID_USER", "Invalid user"));
            }
            // Taken since the link was sent: one account per address.
            if accounts::by_email(&app.pool, &link.email).await?.is_some() {
                return Err(ServiceError::User(UserError::AlreadyExists));
            }
            UserCommand::ChangeEmail {
                email: link.email.clone(),
                by_user_id,
                at: app.clock.now(),
            }
        }
    };
    let position = app
        .ledger
        .execute(&account.id, command, &Guard::default())
        .await?;
    app.settle_on(position, &[UserAccounts::NAME]).await;
    match link.purpose {
        Purpose::Verify => Ok(Verified::Email),
        Purpose::Change => Ok(Verified::Changed(Box::new(
            accounts::by_id(&app.pool, &account.id)
                .await?
                .unwrap_or(account),
        ))),
    }
}

/// `POST /change-email`: a link to the new address; the account moves to it
/// when the link is opened (an `EmailChanged` event). An address another
/// account has gets the same answer and no email.
pub async fn change_email(
    app: &Context,
    account: &Account,
    new_email: &str,
    callback_url: Option<&str>,
) -> Result<(), ServiceError> {
    let new_email = Email::parse(new_email)?.into_string();
    if new_email == account.email {
        return Err(refused("EMAIL_IS_THE_SAME", "Email is the same"));
    }
    if accounts::by_email(&app.pool, &new_email).await?.is_some() {
        return Ok(());
    }
    send_link(app, account, Purpose::Change, &new_email, callback_url).await
}
