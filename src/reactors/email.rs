//! The invitation email: sent for each private invite's `Created` and `Resent`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::{within, Delivery, Planned, Reactor};
use crate::auth::email_verifications::{self, PendingLink};
use crate::auth::{accounts, password_resets};
use crate::domain::invite::{self, InviteEvent};
use crate::domain::invite_link::InviteLinks;
use crate::domain::token_hash::TokenHasher;
use crate::domain::token_seal::TokenSeal;
use crate::domain::user::UserEvent;
use crate::ledger::personal::ERASED;
use crate::ledger::{decode_rows, LedgerEvent, RecordedEvent, RECORDED_COLUMNS};
use crate::mailer::{Invitation, InvitationEmail, Mailer, Templates, SMTP_CONNECTIONS};

/// What an invitation email is made from: its invite's terms and inviter's name.
type Created = (invite::InviteTerms, String);

/// Takes what it uses: the pool it reads the log from, the mailer, the
/// templates, the link builder, and the keys that open and check each
/// invitation's sealed token.
pub struct EmailReactor {
    pub pool: PgPool,
    pub mailer: Arc<dyn Mailer>,
    pub templates: Templates,
    pub links: InviteLinks,
    pub token_seal: TokenSeal,
    pub token_hasher: TokenHasher,
}

impl EmailReactor {
    /// The invite's `Created` event: its terms and its inviter's name, opened
    /// as the log reads now (an erased person's fields: `[erased]`).
    async fn created(&self, token_hash: &str) -> anyhow::Result<Created> {
        let mut found = self.created_all(&[token_hash]).await?;
        found
            .remove(token_hash)
            .ok_or_else(|| anyhow::anyhow!("the invite has no `Created` event"))
    }

    /// The `Created` events of these invites, in one query (and one of their
    /// persons' keys), opened as `created` opens one.
    async fn created_all(&self, token_hashes: &[&str]) -> anyhow::Result<HashMap<String, Created>> {
        if token_hashes.is_empty() {
            return Ok(HashMap::new());
        }
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {RECORDED_COLUMNS} FROM events
              WHERE aggregate_type = $1 AND aggregate_id = ANY($2) AND event_type = 'Created'"
        ))
        .bind(invite::AGGREGATE_TYPE)
        .bind(token_hashes)
        .fetch_all(&mut *conn)
        .await?;
        Ok(decode_rows(&mut conn, &rows)
            .await?
            .into_iter()
            .filter_map(|recorded| match recorded.event {
                LedgerEvent::Invite(InviteEvent::Created {
                    terms,
                    inviter_name,
                    ..
                }) => Some((recorded.aggregate_id, (terms, inviter_name))),
                _ => None,
            })
            .collect())
    }

    /// Performs one delivery, its invite's `Created` event taken from `read`
    /// (the batch's) or else read alone.
    async fn deliver_from(
        &self,
        delivery: &Delivery,
        read: &HashMap<String, Created>,
    ) -> anyhow::Result<()> {
        if let Some(user_id) = delivery.payload["user"].as_str() {
            if delivery.payload["reason"] == "email_verification" {
                return self.send_verification_link(user_id).await;
            }
            return self.send_reset_link(user_id).await;
        }
        let token_hash = delivery.payload["invite"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("delivery without an invite"))?;
        let (terms, inviter_name) = match read.get(token_hash) {
            Some(created) => created.clone(),
            None => self.created(token_hash).await?,
        };
        self.send_invitation(token_hash, terms, inviter_name).await
    }

    async fn send_invitation(
        &self,
        token_hash: &str,
        terms: invite::InviteTerms,
        inviter_name: String,
    ) -> anyhow::Result<()> {
        let (Some(to), Some(sealed)) = (&terms.email, &terms.sealed_token) else {
            anyhow::bail!("the invite has no email or no sealed token");
        };
        // The invitee was erased before the email left: it never will.
        if to == ERASED {
            tracing::info!(invite = token_hash, "not sent: the invitee was erased");
            return Ok(());
        }
        let token = self.token_seal.open(sealed, token_hash)?;
        anyhow::ensure!(
            self.token_hasher.matches(&token, token_hash),
            "the sealed token does not match its invite"
        );
        let email = self.templates.render(Invitation {
            to: to.clone(),
            role: terms.role.clone(),
            url: self.links.custom_link(
                &token,
                terms.sign_in_up_page(),
                terms.custom_invite_url.as_deref(),
            ),
            token,
            new_account: terms.new_account,
            inviter_name: terms.share_inviter_name.then_some(inviter_name),
            name: terms.invitee_name.clone(),
        })?;
        self.mailer.send_invitation(email).await
    }
}

impl EmailReactor {
    /// The newest reset link of the user not sent yet; its sealed token is
    /// cleared once sent, so the table keeps only its hash.
    async fn send_reset_link(&self, user_id: &str) -> anyhow::Result<()> {
        let Some(pending) = password_resets::to_send(&self.pool, user_id).await? else {
            // Sent already (a retry), used, or expired: nothing to send.
            return Ok(());
        };
        let Some(account) = accounts::by_id(&self.pool, user_id).await? else {
            return Ok(());
        };
        if account.email == ERASED {
            return Ok(());
        }
        let token = self
            .token_seal
            .open(&pending.sealed_token, &pending.token_hash)?;
        anyhow::ensure!(
            self.token_hasher.matches(&token, &pending.token_hash),
            "the sealed token does not match its reset link"
        );
        let url = self
            .links
            .reset_link(&token, pending.callback_url.as_deref());
        let email =
            InvitationEmail::account_email(&account.email, "Reset your password", &url, &token);
        self.mailer.send_invitation(email).await?;
        password_resets::sent(&self.pool, &pending.token_hash).await?;
        Ok(())
    }
}

impl EmailReactor {
    /// The newest verification link of the user not sent yet, to the address
    /// it proves (the account's, or the new one of a change of email).
    async fn send_verification_link(&self, user_id: &str) -> anyhow::Result<()> {
        let Some(PendingLink {
            token_hash,
            sealed_token,
            email,
            callback_url,
        }) = email_verifications::to_send(&self.pool, user_id).await?
        else {
            return Ok(());
        };
        let token = self.token_seal.open(&sealed_token, &token_hash)?;
        anyhow::ensure!(
            self.token_hasher.matches(&token, &token_hash),
            "the sealed token does not match its verification link"
        );
        let url = self.links.verify_link(&token, callback_url.as_deref());
        let email =
            InvitationEmail::account_email(&email, "Verify your email address", &url, &token);
        self.mailer.send_invitation(email).await?;
        email_verifications::sent(&self.pool, &token_hash).await?;
        Ok(())
    }
}

#[async_trait]
impl Reactor for EmailReactor {
    fn name(&self) -> &'static str {
        "email"
    }

    fn ordered(&self) -> bool {
        false
    }

    async fn plan(
        &self,
        _conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>> {
        let reason = match &event.event {
            LedgerEvent::Invite(InviteEvent::Created { terms, .. })
                if terms.email.is_some() && terms.sealed_token.is_some() =>
            {
                "created"
            }
            LedgerEvent::Invite(InviteEvent::Resent { .. }) => "resent",
            LedgerEvent::User(UserEvent::PasswordResetRequested { .. }) => {
                return Ok(Some(Planned {
                    key: event.aggregate_id.clone(),
                    payload: json!({ "user": event.aggregate_id, "reason": "password_reset" }),
                }));
            }
            LedgerEvent::User(UserEvent::VerificationEmailRequested { .. }) => {
                return Ok(Some(Planned {
                    key: event.aggregate_id.clone(),
                    payload: json!({ "user": event.aggregate_id, "reason": "email_verification" }),
                }));
            }
            _ => return Ok(None),
        };
        Ok(Some(Planned {
            key: event.aggregate_id.clone(),
            payload: json!({ "invite": event.aggregate_id, "reason": reason }),
        }))
    }

    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()> {
        self.deliver_from(delivery, &HashMap::new()).await
    }

    /// As many at once as the SMTP pool keeps connections.
    fn batch_size(&self) -> usize {
        SMTP_CONNECTIONS as usize
    }

    /// Reads the batch's invites in one query first. Should that read fail,
    /// each delivery reads its own, so that one bad event fails only its own.
    async fn deliver_batch(
        &self,
        deliveries: &[Delivery],
        timeout: Duration,
    ) -> Vec<anyhow::Result<()>> {
        let invites: Vec<&str> = deliveries
            .iter()
            .filter_map(|d| d.payload["invite"].as_str())
            .collect();
        let read = within(timeout, self.created_all(&invites))
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "reading a batch of invites failed; reading each alone"
                );
                HashMap::new()
            });
        join_all(
            deliveries
                .iter()
                .map(|d| within(timeout, self.deliver_from(d, &read))),
        )
        .await
    }
}
