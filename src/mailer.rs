//! Invitation email: its templates and the ways it leaves.
//!
//! The email reactor (`reactors::email`) renders each invitation with the
//! templates and hands it to a `Mailer`: SMTP when `SMTP_URL` is set, JSON files
//! in `MAIL_DIR`, or else the server log (the development default). Tests inject
//! their own `Mailer`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Environment;

use crate::config::Config;

/// What an invitation says, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Invitation {
    pub to: String,
    pub role: String,
    pub url: String,
    pub token: String,
    pub new_account: bool,
    /// The inviter's name, when the invite shares it.
    pub inviter_name: Option<String>,
    /// The invitee's name, when the inviter gave one.
    pub name: Option<String>,
}

/// A rendered invitation, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationEmail {
    pub to: String,
    pub role: String,
    pub url: String,
    pub token: String,
    pub new_account: bool,
    pub inviter_name: Option<String>,
    subject: String,
    text: String,
    html: String,
}

impl InvitationEmail {
    /// An account's own email (a password reset link), sent by the same
    /// mailers as invitations; `role` is empty.
    pub fn account_email(to: &str, subject: &str, url: &str, token: &str) -> InvitationEmail {
        let escaped = url
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        InvitationEmail {
            to: to.to_string(),
            role: String::new(),
            url: url.to_string(),
            token: token.to_string(),
            new_account: false,
            inviter_name: None,
            subject: subject.to_string(),
            text: format!("{subject}: open {url}\nIf you did not ask for it, ignore this email.\n"),
            html: format!(
                "<p>{subject}: <a href=\"{escaped}\">{escaped}</a></p>\n\
                 <p>If you did not ask for it, ignore this email.</p>\n"
            ),
        }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn html(&self) -> &str {
        &self.html
    }
}

const SUBJECT: &str = "invitation.subject.txt";
const TEXT: &str = "invitation.txt";
const HTML: &str = "invitation.html";

/// The invitation's subject, text and HTML templates (minijinja; HTML escaped).
/// Each can be replaced by a file of the same name in `MAIL_TEMPLATE_DIR`; the
/// built-in ones are in `templates/`. Variables: `role`, `url`, `token`,
/// `new_account`, `inviter_name` (absent when not shared), `name` (the invitee's, when
/// given), `to`.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Templates> {
        let built_in = [
            (SUBJECT, include_str!("../templates/invitation.subject.txt")),
            (TEXT, include_str!("../templates/invitation.txt")),
            (HTML, include_str!("../templates/invitation.html")),
        ];
        if let Some(dir) = dir {
            anyhow::ensure!(
                dir.is_dir(),
                "MAIL_TEMPLATE_DIR `{}` is not a folder",
                dir.display()
            );
        }
        let mut env = Environment::new();
        for (name, default) in built_in {
            let source = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("template {}: {e}", path.display()))?,
                None => default.to_string(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, invitation: Invitation) -> anyhow::Result<InvitationEmail> {
        let render = |name: &str| -> anyhow::Result<String> {
            Ok(self
                .env
                .get_template(name)?
                .render(minijinja::value::Serde(&invitation))?)
        };
        Ok(InvitationEmail {
            subject: render(SUBJECT)?.trim().to_string(),
            text: render(TEXT)? + "\n",
            html: render(HTML)? + "\n",
            to: invitation.to,
            role: invitation.role,
            url: invitation.url,
            token: invitation.token,
            new_account: invitation.new_account,
            inviter_name: invitation.inviter_name,
        })
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()>;
}

/// The mailer the configuration asks for: SMTP, a folder, or the log.
pub fn from_config(config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match (&config.smtp_url, &config.mail_dir) {
        (Some(url), _) => Arc::new(SmtpMailer::new(
            url,
            &config.mail_from,
            Duration::from_millis(config.delivery_timeout_ms),
        )?),
        (None, Some(dir)) => Arc::new(DirMailer::new(dir.clone())?),
        (None, None) => Arc::new(LogMailer),
    })
}

pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()> {
        // One line: the start-up warning already says that emails come here.
        tracing::info!(to = %email.to, subject = email.subject(), url = %email.url, "invitation email (log delivery)");
        Ok(())
    }
}

/// Connections kept open to the SMTP server, and so the emails the email
/// reactor sends at once: a bulk of invitations reuses them instead of opening
/// one for each message over the pool's size. Each message waits ~40 ms on
/// the server's delayed ACK (lettre leaves Nagle on), so sending many at once
/// is what makes a bulk quick; 48 stays under the 50 connections a stock
/// Postfix lets one client hold.
pub const SMTP_CONNECTIONS: u32 = 48;

/// Sends through an SMTP server: `smtp://host:port` (plain), `?tls=required`
/// (STARTTLS) or `smtps://user:pass@host` (TLS), as lettre reads the URL.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str, timeout: Duration) -> anyhow::Result<SmtpMailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM `{from}`: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse()?)
            .subject(email.subject())
            .multipart(MultiPart::alternative_plain_html(
                email.text().to_string(),
                email.html().to_string(),
            ))?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// Writes each email to `<dir>/<time>-<random>.json` with its subject and bodies.
pub struct DirMailer {
    dir: std::path::PathBuf,
}

impl DirMailer {
    pub fn new(dir: std::path::PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }
}

#[async_trait]
impl Mailer for DirMailer {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()> {
        let name = format!(
            "{}-{}.json",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            uuid::Uuid::new_v4().simple()
        );
        // Written whole, then renamed: a reader never sees half an email.
        let partial = self.dir.join(format!(".{name}"));
        tokio::fs::write(&partial, serde_json::to_vec_pretty(&email)?).await?;
        tokio::fs::rename(&partial, self.dir.join(name)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade_for_bob() -> Invitation {
        Invitation {
            to: "bob@example.com".into(),
            role: "admin".into(),
            url: "http://localhost:3000/api/auth/invite/T?callbackURL=%2Fauth%2Fsign-in".into(),
            token: "T".into(),
            new_account: false,
            inviter_name: Some("Ada <Lovelace>".into()),
            name: None,
        }
    }

    #[test]
    fn built_in_templates_say_what_the_seed_says() {
        let email = Templates::load(None)
            .unwrap()
            .render(upgrade_for_bob())
            .unwrap();
        assert_eq!(email.subject(), "Role upgrade invitation");
        assert!(email
            .text()
            .contains("Ada <Lovelace> invited you to upgrade your role.\nRole: admin\n"));
        assert!(email.text().contains("Or use this code: T"));
        // minijinja escapes `/` too, which HTML readers decode as usual.
        let html = email.html().replace("&#x2f;", "/");
        assert!(html.contains(
            "<a href=\"http://localhost:3000/api/auth/invite/T?callbackURL=%2Fauth%2Fsign-in\">"
        ));
        assert!(html.contains("Ada &lt;Lovelace&gt; has invited you"));

        let mut newcomer = upgrade_for_bob();
        newcomer.new_account = true;
        newcomer.inviter_name = None;
        let email = Templates::load(None).unwrap().render(newcomer).unwrap();
        assert_eq!(email.subject(), "You're invited to join our platform!");
        assert!(email
            .text()
            .contains("Someone invited you to create an account."));
        assert!(email
            .html()
            .contains("You have been invited to create an account."));
    }

    #[test]
    fn a_template_file_replaces_the_built_in_one() {
        let dir = std::env::temp_dir().join(format!("invite-ledger-tpl-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(SUBJECT), "Become {{ role }} at Acme").unwrap();
        let email = Templates::load(Some(&dir))
            .unwrap()
            .render(upgrade_for_bob())
            .unwrap();
        assert_eq!(email.subject(), "Become admin at Acme");
        assert!(
            email.text().contains("upgrade your role"),
            "others stay built in"
        );
        std::fs::write(dir.join(HTML), "{% if %}").unwrap();
        assert!(
            Templates::load(Some(&dir)).is_err(),
            "a broken template fails at start"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn dir_mailer_writes_one_complete_json_file_per_email() {
        let dir = std::env::temp_dir().join(format!("invite-ledger-mail-{}", uuid::Uuid::new_v4()));
        let mailer = DirMailer::new(dir.clone()).unwrap();
        let email = Templates::load(None)
            .unwrap()
            .render(upgrade_for_bob())
            .unwrap();
        mailer.send_invitation(email).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
        assert_eq!(json["to"], "bob@example.com");
        assert_eq!(json["newAccount"], false);
        assert_eq!(json["subject"], "Role upgrade invitation");
        assert!(json["text"]
            .as_str()
            .unwrap()
            .contains("Ada <Lovelace> invited you to upgrade your role"));
        assert!(json["html"].as_str().unwrap().contains("<a href="));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
