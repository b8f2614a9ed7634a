//! `POST /api/companion/invite/create-many`: the standalone `invite/create-many`
//! (`commands::bulk`: its row checks, limits and quota) in the name of a Better
//! Auth user. The plugin tells which invitees Better Auth knows, and mails the
//! created invites itself: the answer carries each created row's token.

use serde::Deserialize;
use serde_json::Value;

use super::invites::Delivery;
use super::people::{person, CompanionUser};
use super::Caller;
use crate::commands::bulk::{self, Issuing, RowInput};
use crate::commands::idempotency::IdempotentRequest;
use crate::commands::invites::TermsOptions;
use crate::config::SenderResponseRedirect;
use crate::context::Context;
use crate::domain::token::TokenType;
use crate::error::ServiceError;

/// One invite of the call: the standalone row, and whether Better Auth has no
/// user with this email (the ledger's own accounts decide when absent).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanionBulkRow {
    pub email: String,
    pub role: String,
    pub name: Option<String>,
    pub new_account: Option<bool>,
}

/// The body: the acting user, the invites, and the options they share (those
/// of `invite/create`, but `email` and `role`, which are per row, and `token`,
/// which the ledger draws).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanionCreateMany {
    pub actor: CompanionUser,
    /// Each item is read on its own: one of the wrong shape is a refused row,
    /// not a refused call.
    #[schema(value_type = Vec<CompanionBulkRow>)]
    pub invites: Vec<Value>,
    pub token_type: Option<TokenType>,
    pub redirect_to_sign_up: Option<String>,
    pub redirect_to_sign_in: Option<String>,
    pub redirect_to_after_upgrade: Option<String>,
    pub max_uses: Option<i64>,
    /// Seconds.
    pub expires_in: Option<i64>,
    pub share_inviter_name: Option<bool>,
    pub sender_response_redirect: Option<SenderResponseRedirect>,
    #[serde(default)]
    pub delivery: Delivery,
}

/// Creates the rows' invites; answers as the standalone route does, each
/// created row with its token.
pub async fn create_many(
    app: &Context,
    caller: Caller,
    request: CompanionCreateMany,
    idempotent: Option<&IdempotentRequest>,
) -> Result<Value, ServiceError> {
    let inviter = person(app, caller, &request.actor).await?;
    let (rows, new_accounts) = request.invites.into_iter().map(read_row).unzip();
    let options = TermsOptions {
        token_type: request.token_type,
        redirect_to_sign_up: request.redirect_to_sign_up,
        redirect_to_sign_in: request.redirect_to_sign_in,
        redirect_to_after_upgrade: request.redirect_to_after_upgrade,
        max_uses: request.max_uses,
        expires_in: request.expires_in,
        share_inviter_name: request.share_inviter_name,
        sender_response_redirect: request.sender_response_redirect,
        custom_invite_url: None,
    };
    let issuing = Issuing {
        new_accounts,
        tokens_in_answer: true,
        ledger_mails: request.delivery == Delivery::Ledger,
    };
    bulk::create_many(app, &inviter, rows, options, &issuing, idempotent).await
}

/// A row as the standalone reads it, once `newAccount` (the plugin's word) is
/// taken out of it.
fn read_row(mut item: Value) -> (RowInput, Option<bool>) {
    let given = item.as_object_mut().and_then(|o| o.remove("newAccount"));
    match given {
        None | Some(Value::Null) => (RowInput::from_json(item), None),
        Some(Value::Bool(new_account)) => (RowInput::from_json(item), Some(new_account)),
        Some(_) => {
            let email = item
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_string);
            let message = "Invalid invite: newAccount must be true or false".to_string();
            (RowInput::Unreadable { email, message }, None)
        }
    }
}
