//! The cookies we set: the session and the activated invite, both HttpOnly.

use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;

use crate::config::Settings;

/// How long an activated invite waits in the browser for a sign-up or sign-in.
const INVITE_COOKIE_SECONDS: i64 = 3600;

fn build(settings: &Settings, name: &str, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build((name.to_string(), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .max_age(time_seconds(max_age))
        .build()
}

fn time_seconds(seconds: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(seconds)
}

pub fn with_session(jar: CookieJar, settings: &Settings, token: &str) -> CookieJar {
    let lifetime = settings.config.session_expires_in;
    jar.add(build(
        settings,
        &settings.session_cookie,
        token.to_string(),
        lifetime,
    ))
}

pub fn without_session(jar: CookieJar, settings: &Settings) -> CookieJar {
    jar.add(build(settings, &settings.session_cookie, String::new(), 0))
}

pub fn with_invite(jar: CookieJar, settings: &Settings, token: &str) -> CookieJar {
    jar.add(build(
        settings,
        &settings.invite_cookie,
        token.to_string(),
        INVITE_COOKIE_SECONDS,
    ))
}

pub fn without_invite(jar: CookieJar, settings: &Settings) -> CookieJar {
    jar.add(build(settings, &settings.invite_cookie, String::new(), 0))
}

pub fn invite_token(jar: &CookieJar, settings: &Settings) -> Option<String> {
    jar.get(&settings.invite_cookie)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}
