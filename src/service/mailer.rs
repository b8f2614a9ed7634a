//! Invitation email. The default mailer writes the email to the log; `MAIL_DIR`
//! writes each one as a JSON file (for development and tests); any other
//! delivery implements `Mailer`.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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

/// Writes each email to `<dir>/<time>-<random>.json` with its subject and text.
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
        let mut json = serde_json::to_value(&email)?;
        json["subject"] = email.subject().into();
        json["text"] = email.text().into();
        let name = format!(
            "{}-{}.json",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            uuid::Uuid::new_v4().simple()
        );
        // Written whole, then renamed: a reader never sees half an email.
        let partial = self.dir.join(format!(".{name}"));
        tokio::fs::write(&partial, serde_json::to_vec_pretty(&json)?).await?;
        tokio::fs::rename(&partial, self.dir.join(name)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dir_mailer_writes_one_complete_json_file_per_email() {
        let dir = std::env::temp_dir().join(format!("invite-ledger-mail-{}", uuid::Uuid::new_v4()));
        let mailer = DirMailer::new(dir.clone()).unwrap();
        let email = InvitationEmail {
            to: "bob@example.com".into(),
            role: "admin".into(),
            url: "http://localhost:3000/api/auth/invite/T".into(),
            token: "T".into(),
            new_account: false,
            inviter_name: Some("Ada".into()),
        };
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
            .contains("Ada invited you to upgrade your role"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
