//! The limits on guessing: unknown invite tokens per client address (every
//! route that looks one up, the invite cookie on sign-in and sign-up
//! included), sign-in attempts per address, wrong passwords per account.
//! Answered `429 TOO_MANY_REQUESTS` with `Retry-After`.

use std::future::Future;
use std::time::Duration;

use std::sync::Arc;

use super::error::ApiError;
use crate::commands::accounts::SignedIn;
use crate::commands::client::ClientInfo;
use crate::config::Config;
use crate::domain::invite::InviteError;
use crate::error::ServiceError;
use crate::rate_limit::{Check, Limit, Limiter, SIGN_IN_ACCOUNT};

pub struct Guards {
    limiter: Arc<Limiter>,
    token_guesses: Limit,
    sign_ins_per_address: Limit,
    failures_per_account: Limit,
}

impl Guards {
    pub fn new(limiter: Arc<Limiter>, config: &Config) -> Self {
        Guards {
            limiter,
            token_guesses: Limit {
                name: "token-guess",
                max: config.activation_attempts_per_minute,
                window: Duration::from_secs(60),
            },
            sign_ins_per_address: Limit {
                name: "sign-in",
                max: config.sign_in_attempts_per_address,
                window: Duration::from_secs(config.sign_in_window_secs),
            },
            failures_per_account: Limit {
                name: SIGN_IN_ACCOUNT,
                max: config.sign_in_failures_per_account,
                window: Duration::from_secs(config.sign_in_account_window_secs),
            },
        }
    }

    /// Runs a token lookup unless this client has guessed wrong too often,
    /// and counts an unknown token against it.
    pub async fn token_lookup<T>(
        &self,
        client: &ClientInfo,
        lookup: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ApiError> {
        self.before_token_lookup(client).await?;
        let result = lookup.await;
        if let Err(ServiceError::Invite(InviteError::NotFound)) = &result {
            self.unknown_token(client).await?;
        }
        Ok(result?)
    }

    /// `token_lookup` for a lookup that reads the guessing limit in its own
    /// statement (`rate_limit::Check`): no read before it.
    pub async fn checked_token_lookup<T, F>(
        &self,
        client: &ClientInfo,
        lookup: impl FnOnce(Check) -> F,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, ServiceError>>,
    {
        let result = lookup(self.token_guesses.check(&address(client))).await;
        if let Err(ServiceError::Invite(InviteError::NotFound)) = &result {
            self.unknown_token(client).await?;
        }
        Ok(result?)
    }

    pub async fn before_token_lookup(&self, client: &ClientInfo) -> Result<(), ApiError> {
        refuse_if(
            self.limiter
                .blocked(&self.token_guesses, &address(client))
                .await?,
        )
    }

    pub async fn unknown_token(&self, client: &ClientInfo) -> Result<(), ApiError> {
        // The guess is answered either way; going over shows on the next one.
        self.limiter
            .count(&self.token_guesses, &address(client))
            .await?;
        Ok(())
    }

    /// A sign-in's invite cookie (or a sign-up's) that named no invite counts
    /// as a guess; what it says is in the invite report, or the error of an
    /// invite-only sign-up.
    pub async fn after_invite_cookie(
        &self,
        client: &ClientInfo,
        result: &Result<SignedIn, ServiceError>,
    ) -> Result<(), ApiError> {
        let unknown = match result {
            Err(ServiceError::Invite(InviteError::NotFound)) => true,
            Ok(signed_in) => signed_in.invite.as_ref().is_some_and(|report| {
                report.code == Some(ServiceError::Invite(InviteError::NotFound).code())
            }),
            Err(_) => false,
        };
        if unknown {
            self.unknown_token(client).await?;
        }
        Ok(())
    }

    /// Counts a sign-in attempt from this address, and refuses it when the
    /// address is over its budget or the account has had too many wrong passwords.
    pub async fn before_sign_in(&self, client: &ClientInfo, email: &str) -> Result<(), ApiError> {
        refuse_if(
            self.limiter
                .count(&self.sign_ins_per_address, &address(client))
                .await?,
        )?;
        refuse_if(
            self.limiter
                .blocked(&self.failures_per_account, &account(email))
                .await?,
        )
    }

    /// Refuses while the account has had too many wrong passwords (a change
    /// of password checks the current one like a sign-in).
    pub async fn before_sign_in_account(&self, email: &str) -> Result<(), ApiError> {
        refuse_if(
            self.limiter
                .blocked(&self.failures_per_account, &account(email))
                .await?,
        )
    }

    pub async fn wrong_password(&self, email: &str) -> Result<(), ApiError> {
        self.limiter
            .count(&self.failures_per_account, &account(email))
            .await?;
        Ok(())
    }
}

fn refuse_if(wait: Option<Duration>) -> Result<(), ApiError> {
    match wait {
        Some(wait) => Err(ApiError::too_many_requests(wait)),
        None => Ok(()),
    }
}

fn address(client: &ClientInfo) -> String {
    client
        .ip
        .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

/// Accounts are found by email case-insensitively, so they are counted so too.
fn account(email: &str) -> String {
    crate::domain::normalize_email(email)
}
