//! Configuration: the plugin's options as flags and environment variables, with
//! defaults that run on a developer machine with a local PostgreSQL.

use clap::{ArgAction, Args, ValueEnum};
use url::Url;

use crate::domain::email_domains::DomainRules;
use crate::domain::organization::OrganizationQuotas;
use crate::domain::quota::QuotaPolicy;
use crate::domain::redirect;
use crate::domain::roles::RolePolicy;
use crate::domain::token::TokenType;
use crate::domain::token_hash::TokenHasher;
use crate::domain::token_seal::TokenSeal;

/// The names of this machine's loopback interface, as a browser writes them.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// `localhost` or a loopback address.
pub fn is_local(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/invite_ledger";

/// The body webhooks are posted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookFormat {
    Standard,
    Cloudevents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SenderResponse {
    Token,
    Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize, utoipa::ToSchema)]
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
            SenderResponseRedirect::SignIn => crate::domain::invite_link::SIGN_IN,
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

/// How costly password hashes are: slow on purpose (argon2id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for PasswordCost {
    /// OWASP's recommended minimum for argon2id.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// Where the ledger lives: what every command but `serve` takes (`serve` takes
/// the same option in `Config`).
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL, with the database's name; the database is created if missing.
    #[arg(
        long = "database-url",
        value_name = "DATABASE_URL",
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true
    )]
    pub url: String,
}

impl DatabaseArgs {
    /// The URL, once checked.
    pub fn checked(&self) -> anyhow::Result<&str> {
        check_database_url(&self.url)?;
        Ok(&self.url)
    }
}

/// The password-hashing options, accepted and ignored by the commands that hash
/// no password, so that a script may pass one set of options to every command.
#[derive(Debug, Clone, Args)]
pub struct IgnoredPasswordCost {
    #[arg(long = "password-hash-memory-kib", hide = true)]
    _memory_kib: Option<u32>,
    #[arg(long = "password-hash-iterations", hide = true)]
    _iterations: Option<u32>,
}

/// The roles, lowest first, and the two that have a meaning of their own.
#[derive(Debug, Clone, Args)]
pub struct RoleArgs {
    /// Roles, lowest first (comma separated; spaces around names are dropped; an
    /// empty or repeated name is refused).
    #[arg(
        long,
        env = "ROLES",
        value_delimiter = ',',
        default_value = "user,admin",
        value_parser = role_name
    )]
    pub roles: Vec<String>,
    /// Role of users who sign up without an invite (`defaultRoleForSignupWithoutInvite`).
    #[arg(long, env = "DEFAULT_ROLE", default_value = "user", value_parser = role_name)]
    pub default_role: String,
    /// Lowest role that may set other users' roles.
    #[arg(long, env = "ADMIN_ROLE", default_value = "admin", value_parser = role_name)]
    pub admin_role: String,
}

impl RoleArgs {
    pub fn policy(&self) -> anyhow::Result<RolePolicy> {
        RolePolicy::new(self.roles.clone(), &self.default_role, &self.admin_role)
            .map_err(|e| anyhow::anyhow!("ROLES, DEFAULT_ROLE, ADMIN_ROLE: {e}"))
    }
}

/// A role's name, trimmed; an empty one (`user,,admin`) is a mistake.
fn role_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("a role name is empty (look for a doubled or trailing comma)".into());
    }
    Ok(name.to_string())
}

/// Passwords: their minimum length and the cost of hashing them.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Shortest password accepted at sign-up, in characters.
    #[arg(long, env = "MIN_PASSWORD_LENGTH", default_value_t = 6)]
    pub min_password_length: usize,
    /// Argon2id memory cost in KiB.
    #[arg(long, env = "PASSWORD_HASH_MEMORY_KIB", default_value_t = 19 * 1024)]
    pub password_hash_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, env = "PASSWORD_HASH_ITERATIONS", default_value_t = 2)]
    pub password_hash_iterations: u32,
}

impl PasswordArgs {
    pub fn cost(&self) -> PasswordCost {
        PasswordCost {
            memory_kib: self.password_hash_memory_kib,
            iterations: self.password_hash_iterations,
        }
    }
}

/// Everything `serve` takes: the plugin's options and the server's own.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL URL, with the database's name; the database is created if missing. On
    /// loopback (`localhost`, `127.0.0.1`, `::1`, a socket) it connects without TLS unless
    /// the URL's `sslmode` or `PGSSLMODE` asks for it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true
    )]
    pub database_url: String,
    /// Address to listen on (an IP address or a host name).
    #[arg(long, env = "BIND_ADDRESS", default_value = "127.0.0.1")]
    pub bind_address: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Public URL of this server (absolute, http or https), used in invite links;
    /// under https, cookies are `Secure` and named with the `__Secure-` prefix
    /// [default: http://localhost:PORT].
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// Other origins (absolute http or https URLs, comma separated) that redirects
    /// may point to and that browsers may call the API from with cookies (CORS).
    #[arg(long, env = "TRUSTED_ORIGINS", value_delimiter = ',')]
    pub trusted_origins: Vec<String>,
    #[command(flatten)]
    pub role_args: RoleArgs,
    /// Type of token an invite gets unless it asks for another (`defaultTokenType`).
    #[arg(long, env = "DEFAULT_TOKEN_TYPE", value_enum, default_value = "token")]
    pub default_token_type: TokenTypeArg,
    /// Prefix of tokens of type `custom` (the plugin's `generateToken`).
    #[arg(long, env = "CUSTOM_TOKEN_PREFIX", default_value = "INV-")]
    pub custom_token_prefix: String,
    /// Number of random characters after the prefix in `custom` tokens.
    #[arg(long, env = "CUSTOM_TOKEN_LENGTH", default_value_t = 16)]
    pub custom_token_length: usize,
    /// Uses an invite allows unless it says otherwise (`defaultMaxUses`).
    #[arg(long, env = "DEFAULT_MAX_USES", default_value_t = 1)]
    pub default_max_uses: u32,
    /// A public invite created without `maxUses` has unlimited uses
    /// (better-invite's `infinityMaxUses`, its default when `defaultMaxUses` is
    /// not set); otherwise it gets `DEFAULT_MAX_USES`, as private invites always do.
    #[arg(long, env = "INFINITY_MAX_USES", default_value_t = false, action = ArgAction::Set)]
    pub infinity_max_uses: bool,
    /// Seconds an invite stays valid (`invitationTokenExpiresIn`).
    #[arg(long, env = "INVITATION_TOKEN_EXPIRES_IN", default_value_t = 3600)]
    pub invitation_token_expires_in: i64,
    /// Where an activated invite sends a visitor to sign up.
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_TO_SIGN_UP",
        default_value = "/auth/sign-up"
    )]
    pub default_redirect_to_sign_up: String,
    /// Where an activated invite sends a visitor to sign in.
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_TO_SIGN_IN",
        default_value = "/auth/sign-in"
    )]
    pub default_redirect_to_sign_in: String,
    /// Where a user goes once an invite has changed their role.
    #[arg(
        long,
        env = "DEFAULT_REDIRECT_AFTER_UPGRADE",
        default_value = "/auth/invited"
    )]
    pub default_redirect_after_upgrade: String,
    /// Whether an invite shows who sent it (`defaultShareInviterName`).
    #[arg(long, env = "DEFAULT_SHARE_INVITER_NAME", default_value_t = true, action = ArgAction::Set)]
    pub default_share_inviter_name: bool,
    /// What `invite/create` answers with unless asked: the token or the link.
    #[arg(
        long,
        env = "DEFAULT_SENDER_RESPONSE",
        value_enum,
        default_value = "token"
    )]
    pub default_sender_response: SenderResponse,
    /// Which page a link answer leads to unless asked.
    #[arg(
        long,
        env = "DEFAULT_SENDER_RESPONSE_REDIRECT",
        value_enum,
        default_value = "signUp"
    )]
    pub default_sender_response_redirect: SenderResponseRedirect,
    /// Prefix of the session and invite cookies' names (`customCookiePrefix`).
    #[arg(long, env = "COOKIE_PREFIX", default_value = "better-auth")]
    pub cookie_prefix: String,
    /// Name of the invite cookie; `{prefix}` becomes the cookie prefix (`customCookieName`).
    #[arg(
        long,
        env = "INVITE_COOKIE_NAME",
        default_value = "{prefix}.invite-token"
    )]
    pub invite_cookie_name: String,
    /// Sign the invite cookie as better-invite does (Better Auth's `setSignedCookie`:
    /// the token, a dot, the base64 HMAC-SHA-256 of it) and read it back only
    /// with a valid signature. The secret is derived from `TOKEN_HASH_KEY`.
    #[arg(long, env = "INVITE_COOKIE_SIGNED", default_value_t = false, action = ArgAction::Set)]
    pub invite_cookie_signed: bool,
    /// Seconds an activated invite's cookie waits for a sign-up or sign-in
    /// (`inviteCookieMaxAge`; the plugin's default is 600).
    #[arg(long, env = "INVITE_COOKIE_MAX_AGE", default_value_t = 3600)]
    pub invite_cookie_max_age: i64,
    /// The invite link's path under `/api/auth` unless an invite gives its own
    /// `customInviteUrl`: `{token}` and `{callbackURL}` are filled in
    /// (`defaultCustomInviteUrl`) [default: `/invite/{token}?callbackURL={callbackURL}`].
    #[arg(long, env = "DEFAULT_CUSTOM_INVITE_URL")]
    pub default_custom_invite_url: Option<String>,
    /// Leave cancelled and rejected invites out of `invite/list`
    /// (`cleanupInvitesOnDecision`; the ledger keeps them).
    #[arg(long, env = "CLEANUP_INVITES_ON_DECISION", default_value_t = false, action = ArgAction::Set)]
    pub cleanup_invites_on_decision: bool,
    /// Leave used-up invites out of `invite/list` (`cleanupInvitesAfterMaxUses`;
    /// the ledger keeps them).
    #[arg(long, env = "CLEANUP_INVITES_AFTER_MAX_USES", default_value_t = false, action = ArgAction::Set)]
    pub cleanup_invites_after_max_uses: bool,
    /// Whether an invite's creator may cancel it (`canCancelInvite`; admins always may).
    #[arg(long, env = "CAN_CANCEL_INVITE", default_value_t = true, action = ArgAction::Set)]
    pub can_cancel_invite: bool,
    /// Whether a private invite's invitee may reject it (`canRejectInvite`).
    #[arg(long, env = "CAN_REJECT_INVITE", default_value_t = true, action = ArgAction::Set)]
    pub can_reject_invite: bool,
    /// Record the client's address and user agent with each refused use or
    /// activation in the ledger (personal data: off unless the operator wants it).
    #[arg(long, env = "RECORD_CLIENT_DETAILS", default_value_t = false, action = ArgAction::Set)]
    pub record_client_details: bool,
    /// Refuse sign-up without a valid invite (the account and the invite's use are
    /// appended together, so concurrent sign-ups never outnumber `maxUses` and a
    /// failed sign-up takes no seat).
    #[arg(long, env = "INVITE_ONLY", default_value_t = false, action = ArgAction::Set)]
    pub invite_only: bool,
    /// How long a seat held for a Better Auth sign-up (`/api/companion/invite/reserve`)
    /// waits for its confirmation before the ledger asks the plugin whether the
    /// user exists, then confirms or releases it (docs/companion-protocol.md).
    #[arg(long, env = "COMPANION_RESERVATION_TTL_MS", default_value_t = 30_000)]
    pub companion_reservation_ttl_ms: u64,
    /// Most private invites one `invite/create-many` call may ask for.
    #[arg(long, env = "INVITE_BULK_MAX", default_value_t = 1000)]
    pub invite_bulk_max: usize,
    /// Limits per inviter role: `user:open=5,day=20;manager:open=100` (invites
    /// open at once, invites created in a rolling 24 hours) [default: none].
    #[arg(long, env = "INVITE_QUOTAS", default_value = "")]
    pub invite_quotas: String,
    /// Limits on a Better Auth organization's invitations:
    /// `inviter:open=5,day=20;organization:open=100,day=500` (one inviter's in
    /// the organization, and the organization's) [default: none].
    #[arg(long, env = "ORGANIZATION_INVITE_QUOTAS", default_value = "")]
    pub organization_invite_quotas: String,
    /// Email domains private invites (and uses of public invites) may use:
    /// `acme.com,*.acme.com`, or per role of the invite `admin:acme.com;user:a.org`
    /// [default: any].
    #[arg(long, env = "INVITE_ALLOWED_DOMAINS", default_value = "")]
    pub invite_allowed_domains: String,
    /// Email domains private invites (and uses of public invites) never go to;
    /// same form as `INVITE_ALLOWED_DOMAINS` [default: none].
    #[arg(long, env = "INVITE_DENIED_DOMAINS", default_value = "")]
    pub invite_denied_domains: String,
    /// Seconds a session lasts.
    #[arg(long, env = "SESSION_EXPIRES_IN", default_value_t = 7 * 24 * 3600)]
    pub session_expires_in: i64,
    /// Seconds a password reset link stays valid (`resetPasswordTokenExpiresIn`).
    #[arg(long, env = "RESET_PASSWORD_TOKEN_EXPIRES_IN", default_value_t = 3600)]
    pub reset_password_token_expires_in: i64,
    /// Password reset emails one address may be sent per hour, from any client.
    #[arg(long, env = "PASSWORD_RESETS_PER_EMAIL", default_value_t = 3)]
    pub password_resets_per_email: u32,
    /// Refuse sign-in (`403 EMAIL_NOT_VERIFIED`) and the use of a private invite
    /// until the account's address is verified; a sign-up then opens no session
    /// and is sent a verification link (`requireEmailVerification`).
    #[arg(long, env = "REQUIRE_EMAIL_VERIFICATION", default_value_t = false, action = ArgAction::Set)]
    pub require_email_verification: bool,
    /// Seconds an email verification link stays valid (`emailVerification.expiresIn`).
    #[arg(long, env = "EMAIL_VERIFICATION_EXPIRES_IN", default_value_t = 3600)]
    pub email_verification_expires_in: i64,
    /// Verification emails (and change-of-email links) one address may be sent
    /// per hour, from any client.
    #[arg(long, env = "VERIFICATION_EMAILS_PER_EMAIL", default_value_t = 3)]
    pub verification_emails_per_email: u32,
    /// Whether a signed-in user may delete their own account (`user.deleteUser.enabled`).
    #[arg(long, env = "DELETE_USER_ENABLED", default_value_t = true, action = ArgAction::Set)]
    pub delete_user_enabled: bool,
    /// Seconds after sign-in during which `delete-user` needs no password
    /// (`session.freshAge`).
    #[arg(long, env = "SESSION_FRESH_AGE", default_value_t = 24 * 3600)]
    pub session_fresh_age: i64,
    #[command(flatten)]
    pub passwords: PasswordArgs,
    /// Write invitation emails as JSON files into this folder instead of the log.
    #[arg(long, env = "MAIL_DIR")]
    pub mail_dir: Option<std::path::PathBuf>,
    /// Failed invite-token lookups allowed per client address per minute.
    #[arg(long, env = "ACTIVATION_ATTEMPTS_PER_MINUTE", default_value_t = 30)]
    pub activation_attempts_per_minute: u32,
    /// Send invitation emails (the plugin's `sendUserInvitation`) through this SMTP
    /// server (`smtp://host:port`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host`) [default: `MAIL_DIR`, else the log].
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of invitation emails.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "invite-ledger <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// Folder with minijinja templates replacing the built-in ones
    /// (`invitation.subject.txt`, `invitation.txt`, `invitation.html`)
    /// [default: the built-in ones, `templates/`].
    #[arg(long, env = "MAIL_TEMPLATE_DIR")]
    pub mail_template_dir: Option<std::path::PathBuf>,
    /// Key sealing private invites' tokens in the ledger for their emails: 64 hex
    /// characters (`openssl rand -hex 32`); emails sealed under an earlier key are
    /// parked [default: a public development key].
    #[arg(long, env = "TOKEN_SEALING_KEY", hide_env_values = true)]
    pub token_sealing_key: Option<String>,
    /// Key of the HMAC that invites' tokens are stored under: 64 hex characters
    /// (`openssl rand -hex 32`), set once and never changed: invites made under
    /// another key can no longer be found [default: a public development key].
    #[arg(long, env = "TOKEN_HASH_KEY", hide_env_values = true)]
    pub token_hash_key: Option<String>,
    /// Serve with the public development keys although `BASE_URL` is not local
    /// (`localhost`, `127.0.0.1`, `::1`): without this, `serve` refuses to start
    /// when `TOKEN_HASH_KEY` or `TOKEN_SEALING_KEY` is not set (`1`/`true`).
    #[arg(
        long,
        env = "ALLOW_DEVELOPMENT_KEYS",
        default_value_t = false,
        action = ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_development_keys: bool,
    /// Post every ledger event to this URL (the plugin's `onInvitationUsed` and
    /// the rest), signed as Standard Webhooks; needs `WEBHOOK_SECRET` [default: off].
    #[arg(long, env = "WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<String>,
    /// The webhook signing secret (`whsec_<base64>`, or any other string used as is).
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The webhook body: `standard` (`{type, timestamp, data}`) or `cloudevents`
    /// (CloudEvents 1.0 JSON, the envelope the NATS publisher uses, sent as
    /// `application/cloudevents+json`).
    #[arg(long, env = "WEBHOOK_FORMAT", value_enum, default_value_t = WebhookFormat::Standard)]
    pub webhook_format: WebhookFormat,
    /// Publish every ledger event to this NATS server's JetStream
    /// (`nats://host:4222`) [default: off].
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    pub nats_url: Option<String>,
    /// The JetStream stream events are published to; created if missing.
    #[arg(long, env = "NATS_STREAM", default_value = "INVITE_LEDGER")]
    pub nats_stream: String,
    /// Subjects are `<prefix>.<aggregate type>.<event>` (`invite-ledger.invite.used`);
    /// the stream takes `<prefix>.>`.
    #[arg(long, env = "NATS_SUBJECT_PREFIX", default_value = "invite-ledger")]
    pub nats_subject_prefix: String,
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
    /// Connections served at once from one client address (an IPv6 /64); further
    /// ones are refused at once with `429`, so one address cannot take every
    /// connection. `TRUSTED_PROXIES` are not limited (the proxy limits its clients).
    #[arg(long, env = "MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 64)]
    pub max_connections_per_address: usize,
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
    /// The window of `SIGN_IN_ATTEMPTS_PER_ADDRESS`, in seconds.
    #[arg(long, env = "SIGN_IN_WINDOW_SECS", default_value_t = 10)]
    pub sign_in_window_secs: u64,
    /// Wrong passwords per account per `SIGN_IN_ACCOUNT_WINDOW_SECS`, from any address.
    #[arg(long, env = "SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 10)]
    pub sign_in_failures_per_account: u32,
    /// The window of `SIGN_IN_FAILURES_PER_ACCOUNT`, in seconds.
    #[arg(long, env = "SIGN_IN_ACCOUNT_WINDOW_SECS", default_value_t = 600)]
    pub sign_in_account_window_secs: u64,
    /// Reverse proxies (addresses or CIDR blocks, comma separated) whose
    /// `X-Forwarded-For` names the client; from anyone else it is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = address_or_block)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Connections this server opens to PostgreSQL at most (its pool). Each
    /// replica needs its own share of PostgreSQL's `max_connections`; the
    /// command-line tools open at most 20.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// How long a request waits for a free database connection before it is
    /// answered 503 with `Retry-After`, in milliseconds.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = 2_000)]
    pub database_acquire_timeout_ms: u64,
    /// How long a request that sends `Ledger-Position` waits for this replica's
    /// read models (or the standby) to reach it, in milliseconds; then
    /// `503 POSITION_NOT_REACHED` (on a standby, the primary answers instead).
    #[arg(long, env = "POSITION_WAIT_MS", default_value_t = 5_000)]
    pub position_wait_ms: u64,
    /// A PostgreSQL streaming standby of `DATABASE_URL` for every read of the
    /// audit API (`/api/ledger`, `as_of` and exports included); the primary
    /// answers when the standby is behind the caller's `Ledger-Position` (or the
    /// `as_of` moment) or unreachable [default: off].
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
}

impl Default for Config {
    /// Every option at its default, whatever the environment says.
    fn default() -> Config {
        use clap::FromArgMatches;
        let command =
            Config::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(["defaults"])
            .expect("every option has a default or is optional");
        Config::from_arg_matches(&matches).expect("defaults parse")
    }
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
    /// The secret the invite cookie is signed with (`INVITE_COOKIE_SIGNED`), or none.
    pub invite_cookie_secret: Option<String>,
    pub secure_cookies: bool,
    pub password_cost: PasswordCost,
    pub token_seal: TokenSeal,
    pub token_hasher: TokenHasher,
    pub quotas: QuotaPolicy,
    pub email_domains: DomainRules,
    pub organization_quotas: OrganizationQuotas,
}

impl Config {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        check_database_url(&self.database_url)?;
        if let Some(url) = &self.database_read_url {
            check_database_url(url).map_err(|e| anyhow::anyhow!("DATABASE_READ_URL: {e}"))?;
        }
        let roles = self.role_args.policy()?;
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}", self.port));
        let base_url = web_url("BASE_URL", &base)?;
        let mut trusted_origins = vec![base_url.origin()];
        // A local server is opened as localhost, 127.0.0.1 or [::1] alike: the
        // same port on any of them is the same machine, so none is refused.
        if is_local(&base_url) {
            for alias in LOOPBACK_NAMES {
                let mut url = base_url.clone();
                if url.set_host(Some(alias)).is_ok() && !trusted_origins.contains(&url.origin()) {
                    trusted_origins.push(url.origin());
                }
            }
        }
        for origin in &self.trusted_origins {
            trusted_origins.push(web_url("TRUSTED_ORIGINS", origin.trim())?.origin());
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
        for (variable, target) in [
            (
                "DEFAULT_REDIRECT_TO_SIGN_UP",
                &self.default_redirect_to_sign_up,
            ),
            (
                "DEFAULT_REDIRECT_TO_SIGN_IN",
                &self.default_redirect_to_sign_in,
            ),
            (
                "DEFAULT_REDIRECT_AFTER_UPGRADE",
                &self.default_redirect_after_upgrade,
            ),
        ] {
            anyhow::ensure!(
                redirect::is_allowed(target, &trusted_origins),
                "{variable} `{target}` is neither a relative path nor on a trusted origin \
                 (BASE_URL, TRUSTED_ORIGINS)"
            );
        }
        if let Some(url) = &self.smtp_url {
            check_smtp_url(url)?;
        }
        if let Some(url) = &self.webhook_url {
            // Not echoed: a webhook URL may carry a secret of its own.
            Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                .ok_or_else(|| anyhow::anyhow!("WEBHOOK_URL is not an absolute http(s) URL"))?;
        }
        anyhow::ensure!(
            self.webhook_url.is_none() || self.webhook_secret.is_some(),
            "WEBHOOK_URL needs a WEBHOOK_SECRET to sign with"
        );
        if let Some(dir) = &self.mail_template_dir {
            anyhow::ensure!(
                dir.is_dir(),
                "MAIL_TEMPLATE_DIR `{}` is not a folder",
                dir.display()
            );
        }
        anyhow::ensure!(
            self.delivery_max_attempts >= 1,
            "DELIVERY_MAX_ATTEMPTS must be at least 1"
        );
        anyhow::ensure!(
            self.invite_bulk_max >= 1,
            "INVITE_BULK_MAX must be at least 1"
        );
        let (quotas, email_domains) = self.invite_rules(&roles)?;
        let organization_quotas = self.organization_quotas()?;
        let token_hasher = TokenHasher::from_hex(self.token_hash_key.as_deref())?;
        Ok(Settings {
            organization_quotas,
            quotas,
            email_domains,
            token_seal: TokenSeal::from_hex(self.token_sealing_key.as_deref())?,
            invite_cookie_secret: self
                .invite_cookie_signed
                .then(|| token_hasher.invite_cookie_secret()),
            token_hasher,
            roles,
            secure_cookies: base_url.scheme() == "https",
            session_cookie: format!("{}.session_token", self.cookie_prefix),
            invite_cookie: self
                .invite_cookie_name
                .replace("{prefix}", &self.cookie_prefix),
            base_url,
            trusted_origins,
            password_cost: self.passwords.cost(),
            config: self.clone(),
        })
    }
}

impl Config {
    /// `ORGANIZATION_INVITE_QUOTAS`: the form of `INVITE_QUOTAS`, for the two
    /// scopes `inviter` and `organization`.
    fn organization_quotas(&self) -> anyhow::Result<OrganizationQuotas> {
        let variable = "ORGANIZATION_INVITE_QUOTAS";
        let policy = QuotaPolicy::parse(&self.organization_invite_quotas)
            .map_err(|e| anyhow::anyhow!("{variable}: {e}"))?;
        if let Some(other) = policy
            .roles()
            .find(|scope| !["inviter", "organization"].contains(scope))
        {
            anyhow::bail!("{variable}: `{other}` is neither `inviter` nor `organization`");
        }
        Ok(OrganizationQuotas {
            inviter: policy.limits("inviter"),
            organization: policy.limits("organization"),
        })
    }

    /// `INVITE_QUOTAS` and the domain lists, parsed, naming only configured roles.
    fn invite_rules(&self, roles: &RolePolicy) -> anyhow::Result<(QuotaPolicy, DomainRules)> {
        let quotas = QuotaPolicy::parse(&self.invite_quotas)
            .map_err(|e| anyhow::anyhow!("INVITE_QUOTAS: {e}"))?;
        let domains = DomainRules::parse(&self.invite_allowed_domains, &self.invite_denied_domains)
            .map_err(|(variable, e)| anyhow::anyhow!("{variable}: {e}"))?;
        let named = quotas
            .roles()
            .map(|role| ("INVITE_QUOTAS", role))
            .chain(domains.roles());
        for (variable, role) in named {
            anyhow::ensure!(
                roles.is_configured(role),
                "{variable}: role `{role}` is not one of ROLES"
            );
        }
        Ok((quotas, domains))
    }
}

/// An absolute http(s) URL with a host, or an error naming `variable`.
fn web_url(variable: &str, text: &str) -> anyhow::Result<Url> {
    // `localhost:3000` parses, as a URL of scheme `localhost`: refuse it too.
    Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{variable} `{text}` is not an absolute http(s) URL (such as `https://app.example.com`)"
            )
        })
}

/// `postgres://` or `postgresql://`, with a host and a database name: without a
/// name, PostgreSQL would pick the user's database and the ledger would land there.
pub fn check_database_url(text: &str) -> anyhow::Result<()> {
    // Never echoed whole: it may hold a password.
    let url = Url::parse(text).map_err(|e| {
        anyhow::anyhow!("DATABASE_URL is not a URL ({e}); expected {DEFAULT_DATABASE_URL}")
    })?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "DATABASE_URL must start with postgres:// (it starts with {}://)",
        url.scheme()
    );
    anyhow::ensure!(
        !url.path().trim_start_matches('/').is_empty(),
        "DATABASE_URL names no database (it points at {}): add one, \
         e.g. `postgres://user@host:5432/invite_ledger`",
        database_place(text)
    );
    Ok(())
}

/// Where a database URL points, for messages: `host:port/database`.
pub fn database_place(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => format!(
            "{}:{}{}",
            url.host_str().unwrap_or("localhost"),
            url.port().unwrap_or(5432),
            url.path()
        ),
        Err(_) => "an unreadable DATABASE_URL".into(),
    }
}

fn check_smtp_url(text: &str) -> anyhow::Result<()> {
    // Never echoed: it may hold a password.
    let url = Url::parse(text).map_err(|e| {
        anyhow::anyhow!(
            "SMTP_URL is not a URL ({e}); expected smtp://host:port or smtps://user:pass@host"
        )
    })?;
    anyhow::ensure!(
        matches!(url.scheme(), "smtp" | "smtps") && url.has_host(),
        "SMTP_URL must be smtp://host:port or smtps://user:pass@host (it starts with {}://)",
        url.scheme()
    );
    Ok(())
}

/// Environment variables that look like ours (they start as one of `known` does,
/// up to its first `_`) but are not: likely misspelt, and otherwise ignored.
pub fn unknown_variables<'a>(
    known: &[String],
    present: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    // Set by desktop sessions, not by anyone configuring this service.
    const FOREIGN: [&str; 1] = ["SESSION_MANAGER"];
    let prefixes: Vec<&str> = known
        .iter()
        .filter_map(|name| name.find('_').map(|i| &name[..=i]))
        .collect();
    let mut unknown: Vec<String> = present
        .into_iter()
        .filter(|name| prefixes.iter().any(|p| name.starts_with(p)))
        .filter(|name| !known.iter().any(|k| k == name) && !FOREIGN.contains(name))
        .map(str::to_string)
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let args = std::iter::once("serve").chain(args.iter().copied());
        Serve::try_parse_from(args).map(|serve| serve.config)
    }

    fn refusal(args: &[&str]) -> String {
        let config = parse(args).expect("parses");
        format!("{:#}", config.settings().expect_err("refused"))
    }

    #[test]
    fn the_defaults_are_valid() {
        let config = Config::default();
        assert_eq!(config.port, 3000);
        assert_eq!(config.role_args.roles, ["user", "admin"]);
        assert_eq!(config.passwords.cost(), PasswordCost::default());
        config.settings().expect("the defaults are valid");
    }

    #[test]
    fn role_names_are_trimmed_and_empty_or_doubled_ones_refused() {
        let config = parse(&["--roles", "user, staff , admin"]).unwrap();
        assert_eq!(config.role_args.roles, ["user", "staff", "admin"]);
        config.settings().unwrap();

        let error = parse(&["--roles", "user,,admin"]).unwrap_err().to_string();
        assert!(
            error.contains("ROLES") && error.contains("empty"),
            "{error}"
        );
        let error = parse(&["--roles", "user,admin,"]).unwrap_err().to_string();
        assert!(error.contains("empty"), "{error}");

        let error = refusal(&["--roles", "user,admin,user"]);
        assert!(
            error.contains("ROLES") && error.contains("twice"),
            "{error}"
        );
    }

    #[test]
    fn base_url_must_be_absolute_http() {
        for base in [
            "localhost:3000",
            "app.example.com",
            "ftp://app.example.com",
            "/app",
        ] {
            let error = refusal(&["--base-url", base]);
            assert!(error.contains("BASE_URL"), "{base}: {error}");
        }
        let error = refusal(&["--trusted-origins", "app.example.com"]);
        assert!(error.contains("TRUSTED_ORIGINS"), "{error}");
        parse(&["--base-url", "https://auth.example.com"])
            .unwrap()
            .settings()
            .unwrap();
    }

    #[test]
    fn a_database_url_needs_a_database_name_and_never_shows_its_password() {
        for url in [
            "postgres://app:S3cretPw@127.0.0.1:5432/",
            "postgres://app:S3cretPw@127.0.0.1:5432",
        ] {
            let error = refusal(&["--database-url", url]);
            assert!(error.contains("DATABASE_URL names no database"), "{error}");
            assert!(error.contains("127.0.0.1:5432"), "{error}");
            assert!(!error.contains("S3cretPw"), "{error}");
        }
        let error = refusal(&["--database-url", "garbage"]);
        assert!(error.contains("DATABASE_URL is not a URL"), "{error}");
        let error = refusal(&["--database-url", "mysql://app:S3cretPw@db/app"]);
        assert!(
            error.contains("DATABASE_URL must start with postgres://"),
            "{error}"
        );
        assert!(!error.contains("S3cretPw"), "{error}");
        check_database_url("postgresql://app:pw@db.internal/ledger").unwrap();
    }

    #[test]
    fn smtp_url_and_template_dir_mistakes_name_their_variable() {
        let error = refusal(&["--smtp-url", "garbage"]);
        assert!(error.contains("SMTP_URL is not a URL"), "{error}");
        let error = refusal(&["--smtp-url", "http://user:MailPw@mail.example.com"]);
        assert!(error.contains("SMTP_URL must be smtp://"), "{error}");
        assert!(!error.contains("MailPw"), "{error}");
        parse(&["--smtp-url", "smtps://user:pw@mail.example.com"])
            .unwrap()
            .settings()
            .unwrap();

        let missing = std::env::temp_dir().join("invite-ledger-no-such-templates");
        let error = refusal(&["--mail-template-dir", missing.to_str().unwrap()]);
        assert!(error.contains("MAIL_TEMPLATE_DIR"), "{error}");
        assert!(error.contains("is not a folder"), "{error}");
    }

    #[test]
    fn invite_rules_name_their_variable_and_only_configured_roles() {
        let error = refusal(&["--invite-quotas", "user:open=lots"]);
        assert!(
            error.contains("INVITE_QUOTAS") && error.contains("whole number"),
            "{error}"
        );
        let error = refusal(&["--invite-quotas", "manager:open=5"]);
        assert!(error.contains("INVITE_QUOTAS: role `manager`"), "{error}");
        let error = refusal(&["--invite-allowed-domains", "acme..com"]);
        assert!(
            error.contains("INVITE_ALLOWED_DOMAINS") && error.contains("acme..com"),
            "{error}"
        );
        let error = refusal(&["--invite-denied-domains", "staff:gmail.com"]);
        assert!(
            error.contains("INVITE_DENIED_DOMAINS: role `staff`"),
            "{error}"
        );
        let error = refusal(&["--invite-bulk-max", "0"]);
        assert!(error.contains("INVITE_BULK_MAX"), "{error}");
        parse(&[
            "--invite-quotas",
            "user:open=5,day=20",
            "--invite-allowed-domains",
            "*.acme.com",
        ])
        .unwrap()
        .settings()
        .unwrap();
    }

    #[test]
    fn default_redirects_name_their_variable() {
        let error = refusal(&["--default-redirect-after-upgrade", "https://evil.example/"]);
        assert!(error.contains("DEFAULT_REDIRECT_AFTER_UPGRADE"), "{error}");
    }

    #[test]
    fn variables_with_our_prefixes_that_are_no_option_are_reported() {
        let known: Vec<String> = ["DEFAULT_REDIRECT_AFTER_UPGRADE", "SMTP_URL", "PORT"]
            .map(String::from)
            .to_vec();
        let present = [
            "DEFAULT_REDIRECT_TO_AFTER_UPGRADE",
            "DEFAULT_REDIRECT_AFTER_UPGRADE",
            "SMTP_URLS",
            "SMTP_URL",
            "PORTS",
            "PATH",
            "HOME",
        ];
        assert_eq!(
            unknown_variables(&known, present),
            ["DEFAULT_REDIRECT_TO_AFTER_UPGRADE", "SMTP_URLS"]
        );
    }
}
