//! Better Auth's `update-user` route.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, User};
use super::HttpState;
use crate::app::App;
use crate::commands::profile::{self, ProfileChange};

pub fn routes() -> Router<HttpState> {
    Router::new().route("/update-user", post(update_user))
}

#[derive(Deserialize, ToSchema)]
struct UpdateUserBody {
    name: Option<String>,
    /// A URL; `null` removes the picture.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    image: Option<Option<String>>,
}

/// Tells a field given as `null` from one left out.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `{status: true}`, as Better Auth answers.
#[derive(Serialize, ToSchema)]
pub struct Updated {
    status: bool,
}

#[utoipa::path(post, path = "/api/auth/update-user", tag = "auth",
    request_body = UpdateUserBody,
    responses((status = 200, body = Updated, description = "The name or picture is changed (a \
            `ProfileUpdated` event, sealed as personal data)"),
        (status = 400, body = ErrorBody, description = "`INVALID_NAME`, a malformed body"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn update_user(
    State(app): State<App>,
    User(user): User,
    Body(body): Body<UpdateUserBody>,
) -> Result<Json<Updated>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        image: body.image,
    };
    profile::update(&app, &user.account, change).await?;
    Ok(Json(Updated { status: true }))
}
