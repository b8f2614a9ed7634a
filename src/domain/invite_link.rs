//! Where an invite sends its visitor: the link in emails and in
//! `senderResponse: "url"` answers (it activates, then redirects), and the
//! page (sign-up or sign-in) the visitor lands on.

use url::Url;

/// `senderResponseRedirect` of a public invite that leads to the sign-in page.
pub const SIGN_IN: &str = "signIn";

/// Builds invite links on this server's base URL.
#[derive(Debug, Clone)]
pub struct InviteLinks {
    base: String,
}

impl InviteLinks {
    pub fn new(base_url: &Url) -> Self {
        InviteLinks {
            base: base_url.as_str().trim_end_matches('/').to_string(),
        }
    }

    /// The link that activates `token`, then redirects to `callback`.
    pub fn link(&self, token: &str, callback: &str) -> String {
        self.custom_link(token, callback, None)
    }

    /// Better Auth's password reset link: it checks the token, then redirects
    /// to `callback` with `?token=`.
    pub fn reset_link(&self, token: &str, callback: Option<&str>) -> String {
        let callback: String =
            url::form_urlencoded::byte_serialize(callback.unwrap_or_default().as_bytes()).collect();
        format!(
            "{}/api/auth/reset-password/{token}?callbackURL={callback}",
            self.base
        )
    }

    /// Better Auth's email verification link: it verifies (or changes) the
    /// address, then redirects to `callback` (`/` by default).
    pub fn verify_link(&self, token: &str, callback: Option<&str>) -> String {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let callback: String =
            url::form_urlencoded::byte_serialize(callback.unwrap_or("/").as_bytes()).collect();
        format!(
            "{}/api/auth/verify-email?token={token}&callbackURL={callback}",
            self.base
        )
    }

    /// The link, or the plugin's `customInviteUrl` (a path under `/api/auth`
    /// with `{token}` and `{callbackURL}` filled in) when the invite has one.
    pub fn custom_link(&self, token: &str, callback: &str, custom: Option<&str>) -> String {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let callback: String = url::form_urlencoded::byte_serialize(callback.as_bytes()).collect();
        match custom {
            None => format!(
                "{}/api/auth/invite/{token}?callbackURL={callback}",
                self.base
            ),
            Some(custom) => format!(
                "{}/api/auth/{}",
                self.base,
                custom
                    .trim_start_matches('/')
                    .replace("{token}", &token)
                    .replace("{callbackURL}", &callback)
            ),
        }
    }
}

/// The invite's facts that choose the landing page.
pub struct Landing<'a> {
    pub private: bool,
    pub new_account: bool,
    pub sender_response_redirect: &'a str,
    pub redirect_to_sign_in: &'a str,
    pub redirect_to_sign_up: &'a str,
}

impl<'a> Landing<'a> {
    /// A private invite for an existing account, or a public one configured so,
    /// leads to the sign-in page; everything else to sign-up.
    pub fn page(&self) -> &'a str {
        let sign_in = if self.private {
            !self.new_account
        } else {
            self.sender_response_redirect == SIGN_IN
        };
        if sign_in {
            self.redirect_to_sign_in
        } else {
            self.redirect_to_sign_up
        }
    }
}

impl super::invite::InviteTerms {
    /// Where the invite's link sends its visitor to sign up or sign in.
    pub fn sign_in_up_page(&self) -> &str {
        Landing {
            private: self.email.is_some(),
            new_account: self.new_account,
            sender_response_redirect: &self.sender_response_redirect,
            redirect_to_sign_in: &self.redirect_to_sign_in,
            redirect_to_sign_up: &self.redirect_to_sign_up,
        }
        .page()
    }
}
