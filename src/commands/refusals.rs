//! Refused uses and activations of existing invites, kept in the ledger for the
//! audit: who tried, which invite, why and when, shown in the invite's history
//! and the feed. At most `RECORDED_PER_MINUTE` are recorded per invite, so a
//! flood of attempts cannot grow the log; the rest are only counted
//! (`invite_refusals_unrecorded_total`). An unknown token has no invite to keep
//! a history: the guessing limit counts those instead.

use std::time::Duration;

use super::client::ClientInfo;
use crate::context::Context;
use crate::domain::invite::{InviteCommand, InviteError, Refusal};
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::rate_limit::Limit;

/// Refusals not written to the ledger because their budget was spent.
pub const UNRECORDED: &str = "invite_refusals_unrecorded_total";

const RECORDED_PER_MINUTE: u32 = 30;

const PER_INVITE: Limit = Limit {
    name: "refusals-recorded",
    max: RECORDED_PER_MINUTE,
    window: Duration::from_secs(60),
};

/// What was tried, for `Refusal::attempt`.
#[derive(Debug, Clone, Copy)]
pub enum Attempt {
    Use,
    Activation,
}

impl Attempt {
    fn as_str(self) -> &'static str {
        match self {
            Attempt::Use => "use",
            Attempt::Activation => "activation",
        }
    }
}

/// Who tried: the account and email when known, and the client it came from.
pub struct Tried<'a> {
    pub user_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub client: &'a ClientInfo,
}

/// Records `refused` against the invite `invite` (its aggregate id), if it is a
/// refusal of an invite that exists. Never fails the caller: the refusal it answers with
/// matters more than its record.
pub async fn record(
    app: &Context,
    invite: &str,
    attempt: Attempt,
    refused: &ServiceError,
    tried: Tried<'_>,
) {
    let ServiceError::Invite(error) = refused else {
        return;
    };
    if *error == InviteError::NotFound {
        return;
    }
    match app.limiter.count(&PER_INVITE, invite).await {
        Ok(None) => {}
        Ok(Some(_)) => {
            metrics::counter!(UNRECORDED).increment(1);
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "could not count a refusal; not recording it");
            return;
        }
    }
    let client = app
        .settings
        .config
        .record_client_details
        .then_some(tried.client);
    let command = InviteCommand::RecordRefusal {
        refusal: Refusal {
            attempt: attempt.as_str().to_string(),
            reason: error.code().to_string(),
            user_id: tried.user_id.map(str::to_string),
            email: tried.email.map(str::to_string),
            client_address: client.and_then(|c| c.ip).map(|ip| ip.to_string()),
            user_agent: client.and_then(|c| c.user_agent.clone()),
        },
        at: app.clock.now(),
    };
    if let Err(error) = app.ledger.execute(invite, command, &Guard::default()).await {
        tracing::warn!(%error, "could not record a refused attempt");
    }
}
