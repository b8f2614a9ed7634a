//! Reads of the `user_account` read model.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgPool};

use crate::domain::invite::Actor;

#[derive(Debug, Clone, FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub invited_by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub updated_at: DateTime<Utc>,
}

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

const COLUMNS: &str = "id, email, name, password_hash, role, invited_by, created_at, updated_at";

pub async fn by_id(pool: &PgPool, id: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM user_account WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn by_email(pool: &PgPool, normalized_email: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM user_account WHERE email = $1"
    ))
    .bind(normalized_email)
    .fetch_optional(pool)
    .await
}
