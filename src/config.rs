//! Configuration: the plugin's options as flags and environment variables, with
//! defaults that run on a developer machine with a local PostgreSQL.

use clap::{ArgAction, Args, ValueEnum};
use url::Url;

use crate::auth::password::PasswordCost;
use crate::domain::roles::RolePolicy;
use crate::domain::token::TokenType;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/invite_ledger";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderResponse {
    Token,
    Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
pub enum SenderResponseRedirect {
    #[value(name = "signUp")]
    #[serde(rename = "signUp")]
    SignUp,
    #[value(name = "signIn")]
    #[serde(rename = "signIn")]
    SignIn,
}

impl SenderResponseRedirect {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderResponseRedirect::SignUp => "signUp",
            SenderResponseRedirect::SignIn => "signIn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenTypeArg {
    Token,
    Code,
    Custom,
}

impl From<TokenTypeArg> for TokenType {
    fn from(arg: TokenTypeArg) -> Self {
        match arg {
            TokenTypeArg::Token => TokenType::Token,
            TokenTypeArg::Code => TokenType::Code,
            TokenTypeArg::Custom => TokenType::Custom,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL to keep the ledger in; the database is created if missing.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDRESS", default_value = "127.0.0.1")]
    pub bind_address: String,
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Public URL of this server, used in invite links [default: http://localhost:PORT].
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// Other origins that redirects may point to (comma separated).
    #[arg(long, env = "TRUSTED_ORIGINS", value_delimiter = ',')]
    pub trusted_origins: Vec<String>,
    /// Roles, lowest first (comma separated).
    #[arg(
        long,
        env = "ROLES",
        value_delimiter = ',',
        default_value = "user,admin"
    )]
    pub roles: Vec<String>,
    /// Role of users who sign up without an invite (`defaultRoleForSignupWithoutInvite`).
    #[arg(long, env = "DEFAULT_ROLE", default_value = "user")]
    pub default_role: String,
    /// Lowest role that may set other users' roles.
    #[arg(long, env = "ADMIN_ROLE", default_value = "admin")]
    pub admin_role: String,
    #[arg(long, env = "DEFAULT_TOKEN_TYPE", value_enum, default_value = "token")]
    pub default_token_type: TokenTypeArg,
    /// Prefix of tokens of type `custom`.
    #[arg(long, env = "CUSTOM_TOKEN_PREFIX", default_value = "INV-")]
    pub custom_token_prefix: String,
    /// Number of random characters after the prefix in `custom` tokens.
    #[arg(long, env = "CUSTOM_TOKEN_LENGTH", default_value_t = 16)]
    pub custom_token_length: usize,
    #[arg(long, env = "DEFAULT_MAX_USES", default_value_t = 1)]
    pub default_max_uses: u32,
    /// Seconds an invite stays valid (`invitationTokenExpiresIn`).
    #[arg(long, env = "INVITATION_TOKEN_EXPIRES_IN", default_value_t = 3600)]
    pub invitation_token_expires_in: i64,
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_TO_SIGN_UP",
        default_value = "/auth/sign-up"
    )]
    pub default_redirect_to_sign_up: String,
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_TO_SIGN_IN",
        default_value = "/auth/sign-in"
    )]
    pub default_redirect_to_sign_in: String,
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_AFTER_UPGRADE",
        default_value = "/auth/invited"
    )]
    pub default_redirect_after_upgrade: String,
    #[arg(long, env = "DEFAULT_SHARE_INVITER_NAME", default_value_t = true, action = ArgAction::Set)]
    pub default_share_inviter_name: bool,
    #[arg(
        long,
        env = "DEFAULT_SENDER_RESPONSE",
        value_enum,
        default_value = "token"
    )]
    pub default_sender_response: SenderResponse,
    #[arg(
        long,
        env = "DEFAULT_SENDER_RESPONSE_REDIRECT",
        value_enum,
        default_value = "signUp"
    )]
    pub default_sender_response_redirect: SenderResponseRedirect,
    #[arg(long, env = "COOKIE_PREFIX", default_value = "better-auth")]
    pub cookie_prefix: String,
    /// Name of the invite cookie; `{prefix}` becomes the cookie prefix.
    #[arg(
        long,
        env = "INVITE_COOKIE_NAME",
        default_value = "{prefix}.invite-token"
    )]
    pub invite_cookie_name: String,
    /// Refuse sign-up without a valid invite.
    #[arg(long, env = "INVITE_ONLY", default_value_t = false, action = ArgAction::Set)]
    pub invite_only: bool,
    /// Seconds a session lasts.
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = 7 * 24 * 3600)]
    pub session_expires_in: i64,
    #[arg(long, env = "MIN_PASSWORD_LENGTH", default_value_t = 6)]
    pub min_password_length: usize,
    /// Argon2id memory cost in KiB.
    #[arg(long, env = "PASSWORD_HASH_MEMORY_KIB", default_value_t = 19 * 1024)]
    pub password_hash_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, env = "PASSWORD_HASH_ITERATIONS", default_value_t = 2)]
    pub password_hash_iterations: u32,
    /// Write invitation emails as JSON files into this folder instead of the log.
    #[arg(long, env = "MAIL_DIR")]
    pub mail_dir: Option<std::path::PathBuf>,
    /// Failed invite-token lookups allowed per client address per minute.
    #[arg(long, env = "ACTIVATION_ATTEMPTS_PER_MINUTE", default_value_t = 30)]
    pub activation_attempts_per_minute: u32,
    /// Send invitation emails through this SMTP server (`smtp://host:port`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://user:pass@host`).
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender of invitation emails.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "invite-ledger <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// Folder with templates replacing the built-in ones (`invitation.subject.txt`,
    /// `invitation.txt`, `invitation.html`).
    #[arg(long, env = "MAIL_TEMPLATE_DIR")]
    pub mail_template_dir: Option<std::path::PathBuf>,
    /// Key sealing private invites' tokens in the ledger for their emails: 64 hex
    /// characters [default: a public development key].
    #[arg(long, env = "TOKEN_SEALING_KEY", hide_env_values = true)]
    pub token_sealing_key: Option<String>,
    /// Post every ledger event to this URL (signed as Standard Webhooks).
    #[arg(long, env = "WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// The webhook signing secret (`whsec_<base64>`, or any other string used as is).
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Time limit of one email or webhook delivery attempt, in milliseconds.
    #[arg(long, env = "DELIVERY_TIMEOUT_MS", default_value_t = 10_000)]
    pub delivery_timeout_ms: u64,
    /// Attempts before a delivery is parked (then `invite-ledger reactors retry`).
    #[arg(long, env = "DELIVERY_MAX_ATTEMPTS", default_value_t = 8)]
    pub delivery_max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubled at each further one.
    #[arg(long, env = "DELIVERY_RETRY_BASE_MS", default_value_t = 1_000)]
    pub delivery_retry_base_ms: u64,
    /// How often the sweeper looks for invites past their time, in milliseconds.
    #[arg(long, env = "EXPIRY_SWEEP_INTERVAL_MS", default_value_t = 30_000)]
    pub expiry_sweep_interval_ms: u64,

    // Limits that keep the server up under attack (README, "Security").
    /// Time a client has to send a request's headers, in milliseconds.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// Time from a request's headers to its answer (body read included), in milliseconds.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// A connection with no bytes moving either way for this long is closed, in milliseconds.
    #[arg(long, env = "IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub idle_timeout_ms: u64,
    /// Connections served at once; further ones wait in the listen queue.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// On a stop, how long requests in flight may take to finish, in milliseconds.
    #[arg(long, env = "SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
    /// `/readyz` is ready while no read model is more than this many events behind the log.
    #[arg(long, env = "READY_MAX_LAG", default_value_t = 1_000)]
    pub ready_max_lag: i64,
    /// Time `/readyz` gives the database to answer, in milliseconds.
    #[arg(long, env = "READY_TIMEOUT_MS", default_value_t = 1_000)]
    pub ready_timeout_ms: u64,
    /// Sign-in attempts per client address per `SIGN_IN_WINDOW_SECS` (Better Auth: 3 per 10 s).
    #[arg(long, env = "SIGN_IN_ATTEMPTS_PER_ADDRESS", default_value_t = 3)]
    pub sign_in_attempts_per_address: u32,
    #[arg(long, env = "SIGN_IN_WINDOW_SECS", default_value_t = 10)]
    pub sign_in_window_secs: u64,
    /// Wrong passwords per account per `SIGN_IN_ACCOUNT_WINDOW_SECS`, from any address.
    #[arg(long, env = "SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 10)]
    pub sign_in_failures_per_account: u32,
    #[arg(long, env = "SIGN_IN_ACCOUNT_WINDOW_SECS", default_value_t = 600)]
    pub sign_in_account_window_secs: u64,
    /// Reverse proxies (addresses or CIDR blocks, comma separated) whose
    /// `X-Forwarded-For` names the client; from anyone else it is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = address_or_block)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// `10.0.0.1` or `10.0.0.0/8`.
fn address_or_block(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{value}` is neither an IP address nor a CIDR block"))
}

/// The configuration, checked and resolved once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub roles: RolePolicy,
    pub base_url: Url,
    /// Origins (scheme://host:port) that absolute redirects may point to.
    pub trusted_origins: Vec<url::Origin>,
    pub session_cookie: String,
    pub invite_cookie: String,
    pub secure_cookies: bool,
    pub password_cost: PasswordCost,
    pub token_seal: crate::service::token_seal::TokenSeal,
}

impl Config {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let roles = RolePolicy::new(self.roles.clone(), &self.default_role, &self.admin_role)?;
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}", self.port));
        let base_url = Url::parse(&base).map_err(|e| anyhow::anyhow!("BASE_URL `{base}`: {e}"))?;
        let mut trusted_origins = vec![base_url.origin()];
        for origin in &self.trusted_origins {
            let url = Url::parse(origin)
                .map_err(|e| anyhow::anyhow!("trusted origin `{origin}`: {e}"))?;
            trusted_origins.push(url.origin());
        }
        anyhow::ensure!(
            self.default_max_uses >= 1,
            "DEFAULT_MAX_USES must be at least 1"
        );
        anyhow::ensure!(
            self.invitation_token_expires_in > 0,
            "INVITATION_TOKEN_EXPIRES_IN must be positive"
        );
        anyhow::ensure!(
            self.custom_token_length >= 6,
            "CUSTOM_TOKEN_LENGTH must be at least 6"
        );
        for redirect in [
            &self.default_redirect_to_sign_up,
            &self.default_redirect_to_sign_in,
            &self.default_redirect_after_upgrade,
        ] {
            crate::service::redirect::check(redirect, &trusted_origins).map_err(|_| {
                anyhow::anyhow!(
                    "default redirect `{redirect}` is not a relative path or trusted origin"
                )
            })?;
        }
        anyhow::ensure!(
            self.webhook_url.is_none() || self.webhook_secret.is_some(),
            "WEBHOOK_URL needs a WEBHOOK_SECRET to sign with"
        );
        anyhow::ensure!(
            self.delivery_max_attempts >= 1,
            "DELIVERY_MAX_ATTEMPTS must be at least 1"
        );
        Ok(Settings {
            token_seal: crate::service::token_seal::TokenSeal::from_hex(
                self.token_sealing_key.as_deref(),
            )?,
            roles,
            secure_cookies: base_url.scheme() == "https",
            session_cookie: format!("{}.session_token", self.cookie_prefix),
            invite_cookie: self
                .invite_cookie_name
                .replace("{prefix}", &self.cookie_prefix),
            base_url,
            trusted_origins,
            password_cost: PasswordCost {
                memory_kib: self.password_hash_memory_kib,
                iterations: self.password_hash_iterations,
            },
            config: self.clone(),
        })
    }
}
