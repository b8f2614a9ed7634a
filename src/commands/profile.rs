//! Better Auth's `updateUser`: the signed-in user's name and picture, a
//! `ProfileUpdated` event (both sealed in the log, as personal data).

use crate::auth::accounts::{self, Account};
use crate::context::Context;
use crate::domain::user::UserCommand;
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::projections::model::ReadModel;
use crate::projections::user_account::UserAccounts;

/// What `update-user` may change; a field left out stays as it is, an
/// `image` of `null` removes the picture.
pub struct ProfileChange {
    pub name: Option<String>,
    pub image: Option<Option<String>>,
}

pub async fn update(
    app: &Context,
    account: &Account,
    change: ProfileChange,
) -> Result<Account, ServiceError> {
    let name = match change.name {
        None => account.name.clone(),
        Some(name) => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ServiceError::bad_request(
                    "INVALID_NAME",
                    "Name must be 1 to 200 characters",
                ));
            }
            name
        }
    };
    let image = match change.image {
        None => account.image.clone(),
        Some(image) => {
            if image
                .as_deref()
                .is_some_and(|i| i.len() > 2000 || i.chars().any(char::is_control))
            {
                return Err(ServiceError::bad_request(
                    "VALIDATION_ERROR",
                    "image must be a URL of at most 2000 characters",
                ));
            }
            image
        }
    };
    if name == account.name && image == account.image {
        return Ok(account.clone());
    }
    let command = UserCommand::UpdateProfile {
        name,
        image,
        at: app.clock.now(),
    };
    let position = app
        .ledger
        .execute(&account.id, command, &Guard::default())
        .await?;
    app.settle_on(position, &[UserAccounts::NAME]).await;
    Ok(accounts::by_id(&app.pool, &account.id)
        .await?
        .unwrap_or_else(|| account.clone()))
}
