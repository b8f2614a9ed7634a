//! Quotas per inviter (`INVITE_QUOTAS`): the guard that holds them in the
//! append's transaction, and what `GET /invite/quota` tells an inviter.

use serde::Serialize;

use crate::auth::accounts::Account;
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::{usage, Quota};

/// The quota `inviter` creates invites under now, if their role has one.
pub fn guard_for(app: &Context, inviter: &Account) -> Option<Quota> {
    let limits = app.settings.quotas.limits(&inviter.role);
    (!limits.is_unlimited()).then(|| Quota {
        inviter_id: inviter.id.clone(),
        open: limits.open,
        day: limits.day,
        now: app.clock.now(),
    })
}

/// One limit as the inviter sees it; `limit` and `left` are `null` without one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitStatus {
    pub limit: Option<u32>,
    pub used: u32,
    pub left: Option<u32>,
}

/// The signed-in user's quotas (`INVITE_QUOTAS`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaStatus {
    pub role: String,
    /// Invites open at once.
    pub open: LimitStatus,
    /// Invites created in the last 24 hours.
    pub day: LimitStatus,
}

/// The signed-in user's limits, what they used (counted from the log) and what is left.
pub async fn status(app: &Context, account: &Account) -> Result<QuotaStatus, ServiceError> {
    let limits = app.settings.quotas.limits(&account.role);
    let used = usage(
        &mut *app.pool.acquire().await?,
        &account.id,
        app.clock.now(),
    )
    .await?;
    let status = |limit: Option<u32>, used: u32| LimitStatus {
        limit,
        used,
        left: limit.map(|l| l.saturating_sub(used)),
    };
    Ok(QuotaStatus {
        role: account.role.clone(),
        open: status(limits.open, used.open),
        day: status(limits.day, used.day),
    })
}
