//! The cookies we set: the session and the activated invite, both HttpOnly.
//! Under an https base URL their names carry the `__Secure-` prefix, as Better
//! Auth's do (browsers then refuse them from plain http); both names are read.

use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;

use super::signed_cookie;
use crate::config::Settings;

const SECURE_PREFIX: &str = "__Secure-";

/// The name a cookie is set under: prefixed when cookies are `Secure`.
fn set_name(settings: &Settings, base: &str) -> String {
    if settings.secure_cookies {
        format!("{SECURE_PREFIX}{base}")
    } else {
        base.to_string()
    }
}

/// A cookie's value under either name, the prefixed one first; NUL-free only,
/// since nothing we set carries one.
fn read(jar: &CookieJar, base: &str) -> Option<String> {
    jar.get(&format!("{SECURE_PREFIX}{base}"))
        .or_else(|| jar.get(base))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && !v.contains('\0'))
}

fn build(settings: &Settings, base: &str, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build((set_name(settings, base), value))
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

pub fn session_token(jar: &CookieJar, settings: &Settings) -> Option<String> {
    read(jar, &settings.session_cookie)
}

pub fn with_invite(jar: CookieJar, settings: &Settings, token: &str) -> CookieJar {
    let value = match &settings.invite_cookie_secret {
        Some(secret) => signed_cookie::sign(token, secret),
        None => token.to_string(),
    };
    jar.add(build(
        settings,
        &settings.invite_cookie,
        value,
        // How long an activated invite waits in the browser for a sign-up or sign-in.
        settings.config.invite_cookie_max_age,
    ))
}

pub fn without_invite(jar: CookieJar, settings: &Settings) -> CookieJar {
    jar.add(build(settings, &settings.invite_cookie, String::new(), 0))
}

/// The activated invite's token; when the cookie is signed, only under a valid
/// signature (an unsigned or forged value is as good as none).
pub fn invite_token(jar: &CookieJar, settings: &Settings) -> Option<String> {
    let value = read(jar, &settings.invite_cookie)?;
    match &settings.invite_cookie_secret {
        Some(secret) => signed_cookie::verify(&value, secret),
        None => Some(value),
    }
}

/// Whether a request carries one of our cookies (the session or the invite),
/// which is what makes a cross-site request able to act for someone.
pub fn carries_ours(jar: &CookieJar, settings: &Settings) -> bool {
    [&settings.session_cookie, &settings.invite_cookie]
        .into_iter()
        .any(|base| read(jar, base).is_some())
}
