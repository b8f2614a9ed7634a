//! Reads of the `user_account` read model.

use sqlx::PgPool;

use crate::domain::invite::Actor;
use crate::projections::row::Row;
/// An account: a row of the `user_account` read model.
pub use crate::projections::user_account::UserAccount as Account;

impl Account {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.clone(),
        }
    }
}

pub async fn by_id(pool: &PgPool, id: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!(
        "SELECT {} FROM user_account WHERE id = $1",
        Account::column_list()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn by_email(pool: &PgPool, normalized_email: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!(
        "SELECT {} FROM user_account WHERE email = $1",
        Account::column_list()
    ))
    .bind(normalized_email)
    .fetch_optional(pool)
    .await
}
