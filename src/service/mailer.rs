//! Invitation email. The default mailer writes the email to the log (for
//! development); any other delivery implements `Mailer`.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationEmail {
    pub to: String,
    pub role: String,
    pub url: String,
    pub token: String,
    pub new_account: bool,
    /// The inviter's name, when the invite shares it.
    pub inviter_name: Option<String>,
}

impl InvitationEmail {
    pub fn subject(&self) -> &'static str {
        if self.new_account {
            "You're invited to join our platform!"
        } else {
            "Role upgrade invitation"
        }
    }

    pub fn text(&self) -> String {
        let who = self.inviter_name.as_deref().unwrap_or("Someone");
        let what = if self.new_account {
            "invited you to create an account"
        } else {
            "invited you to upgrade your role"
        };
        format!(
            "Hi there,\n\n{who} {what}.\nRole: {}\n\nAccept: {}\nOr use this code: {}\n",
            self.role, self.url, self.token
        )
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()>;
}

pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()> {
        tracing::info!(to = %email.to, subject = email.subject(), body = %email.text(), "invitation email (log delivery)");
        Ok(())
    }
}
