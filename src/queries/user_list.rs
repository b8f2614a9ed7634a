//! `GET /admin/list-users`: the accounts of `user_account` as the admin
//! plugin's `listUsers` lists them (search, filter, sort, limit and offset over
//! its user fields). An erased person stays listed, their email and name read
//! `[erased]`, as everywhere else in the API.

use serde::Deserialize;
use sqlx::{Postgres, QueryBuilder};
use utoipa::IntoParams;

use crate::auth::accounts::Account;
use crate::commands::admin_users::must_be_admin;
use crate::context::Context;
use crate::error::ServiceError;
use crate::projections::row::Row;
use crate::queries::search::{self, invalid};

/// A page without `limit` holds this many users.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most users one page holds.
pub const MAX_LIMIT: i64 = 1000;

/// The admin plugin's query parameters of `GET /admin/list-users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// The value to search for.
    pub search_value: Option<String>,
    /// `email` (the default) or `name`.
    pub search_field: Option<String>,
    /// `contains` (the default), `starts_with` or `ends_with`.
    pub search_operator: Option<String>,
    /// 100 unless given, at most 1000 (0 counts as not given, as in Better Auth).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// `createdAt` (the default), `updatedAt`, `email`, `name`, `role`, `id`,
    /// `emailVerified` or `banned`.
    pub sort_by: Option<String>,
    /// `asc` (the default) or `desc`.
    pub sort_direction: Option<String>,
    /// `email` (the default), `name`, `role`, `id`, `emailVerified` or `banned`.
    pub filter_field: Option<String>,
    /// One value; for `in` and `not_in`, the parameter repeated, one value each
    /// (how Better Auth's client sends a list).
    #[serde(default)]
    pub filter_value: Vec<String>,
    /// `eq` (the default), `ne`, `lt`, `lte`, `gt`, `gte`, `in` or `not_in`.
    pub filter_operator: Option<String>,
}

/// One page of users and how many match in all.
pub struct UserPage {
    pub users: Vec<Account>,
    pub total: i64,
    /// The limit and offset asked for, echoed as Better Auth does (absent when 0).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The column behind one of the plugin's user fields: the only names that
/// ever reach the SQL text.
fn column(field: &str) -> Option<&'static str> {
    Some(match field {
        "id" => "id",
        "email" => "email",
        "name" => "name",
        "role" => "role",
        "emailVerified" => "email_verified",
        "banned" => "banned",
        "createdAt" => "created_at",
        "updatedAt" => "updated_at",
        _ => return None,
    })
}

/// The where clause shared by the count and the page.
fn push_where(
    sql: &mut QueryBuilder<'_, Postgres>,
    query: &ListUsersQuery,
) -> Result<(), ServiceError> {
    sql.push(" WHERE TRUE");
    if let Some(value) = query.search_value.as_deref().filter(|v| !v.is_empty()) {
        let column = match query.search_field.as_deref().unwrap_or("email") {
            "email" => "email",
            "name" => "name",
            other => return Err(invalid(format!("Cannot search by `{other}`"))),
        };
        let pattern = search::like_pattern(value, query.search_operator.as_deref())?;
        sql.push(format!(" AND {column} ILIKE ")).push_bind(pattern);
    }
    if query.filter_value.is_empty() {
        return Ok(());
    }
    let field = query.filter_field.as_deref().unwrap_or("email");
    let column = column(field)
        .filter(|c| !matches!(*c, "created_at" | "updated_at"))
        .ok_or_else(|| invalid(format!("Cannot filter by `{field}`")))?;
    // Better Auth's adapter: `in` and `not_in` take a list (one value is a list of one).
    let (op, list) = match query.filter_operator.as_deref() {
        Some("in") => ("= ANY", true),
        Some("not_in") => ("<> ALL", true),
        other => (search::comparison(other)?, false),
    };
    let [value] = query.filter_value.as_slice() else {
        if !list {
            return Err(invalid(
                "filterValue is given once, but for `in` and `not_in`",
            ));
        }
        return push_list(sql, column, field, op, &query.filter_value);
    };
    if list {
        return push_list(sql, column, field, op, std::slice::from_ref(value));
    }
    sql.push(format!(" AND {column} {op} "));
    match column {
        "email_verified" | "banned" => {
            sql.push_bind(as_bool(field, value)?);
        }
        // Emails are kept lower-cased.
        "email" => {
            sql.push_bind(value.to_lowercase());
        }
        _ => {
            sql.push_bind(value.to_string());
        }
    }
    Ok(())
}

/// A filter value of a true-or-false field.
fn as_bool(field: &str, value: &str) -> Result<bool, ServiceError> {
    value
        .parse()
        .map_err(|_| invalid(format!("{field} is compared with true or false")))
}

/// ` AND column = ANY($1)` (or `<> ALL`) with the values typed as the column.
fn push_list(
    sql: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    field: &str,
    op: &str,
    values: &[String],
) -> Result<(), ServiceError> {
    sql.push(format!(" AND {column} {op}("));
    match column {
        "email_verified" | "banned" => {
            let flags = values
                .iter()
                .map(|v| as_bool(field, v))
                .collect::<Result<Vec<_>, _>>()?;
            sql.push_bind(flags);
        }
        "email" => {
            sql.push_bind(values.iter().map(|v| v.to_lowercase()).collect::<Vec<_>>());
        }
        _ => {
            sql.push_bind(values.to_vec());
        }
    }
    sql.push(")");
    Ok(())
}

/// `GET /admin/list-users`, for admins only.
pub async fn list(
    app: &Context,
    admin: &Account,
    query: &ListUsersQuery,
) -> Result<UserPage, ServiceError> {
    must_be_admin(
        app,
        admin,
        "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
        "You are not allowed to list users",
    )?;
    search::check_page(query.limit, query.offset, MAX_LIMIT)?;
    let sort = match query.sort_by.as_deref() {
        None => "created_at",
        Some(field) => column(field).ok_or_else(|| invalid(format!("Cannot sort by `{field}`")))?,
    };
    let direction = search::sort_direction(query.sort_direction.as_deref())?;
    let limit = query.limit.filter(|l| *l > 0);
    let offset = query.offset.filter(|o| *o > 0);

    let mut conn = app.pool.acquire().await?;
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM user_account");
    push_where(&mut count, query)?;
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;

    let mut page = QueryBuilder::<Postgres>::new(format!(
        "SELECT {} FROM user_account",
        Account::column_list()
    ));
    push_where(&mut page, query)?;
    // `id` breaks ties, so pages never overlap.
    page.push(format!(" ORDER BY {sort} {direction}, id {direction}"));
    page.push(" LIMIT ")
        .push_bind(limit.unwrap_or(DEFAULT_LIMIT));
    page.push(" OFFSET ").push_bind(offset.unwrap_or(0));
    let users: Vec<Account> = page.build_query_as().fetch_all(&mut *conn).await?;
    Ok(UserPage {
        users,
        total,
        limit,
        offset,
    })
}
