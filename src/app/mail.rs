//! Outgoing e-mail: the password link, in French, over SMTP (`CANTINE_SMTP_URL`), or written as
//! `.eml` files for development, or kept in memory for tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// Where messages go.
#[derive(Clone)]
pub enum MailTransport {
    /// `smtp://user:pass@host:587?tls=required` or `smtps://…` (lettre's URL format).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this folder (development).
    Files(PathBuf),
    /// Kept in memory, for tests to read.
    Capture(Arc<Mutex<Vec<SentMail>>>),
}

/// A message as sent, for tests and logs.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: MailTransport,
}

impl Mailer {
    pub fn new(from: &str, transport: MailTransport) -> anyhow::Result<Self> {
        Ok(Self {
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("sender address {from:?}: {e}"))?,
            transport,
        })
    }

    /// The mailer the settings describe: kept in memory when the tests capture mail, SMTP when
    /// `CANTINE_SMTP_URL` is set, `.eml` files under `CANTINE_DATA/mail` otherwise.
    pub fn configured(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(sent) = &settings.capture_mail {
            return Self::new(&settings.mail_from, MailTransport::Capture(sent.clone()));
        }
        Self::from_settings(
            &settings.mail_from,
            settings.smtp_url.as_deref(),
            settings.data.join("mail"),
        )
    }

    /// SMTP when `smtp_url` is set, `.eml` files under `mail_dir` otherwise.
    pub fn from_settings(
        from: &str,
        smtp_url: Option<&str>,
        mail_dir: PathBuf,
    ) -> anyhow::Result<Self> {
        let transport = match smtp_url {
            Some(url) => MailTransport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("CANTINE_SMTP_URL: {e}"))?
                    .build(),
            ),
            None => MailTransport::Files(mail_dir),
        };
        Self::new(from, transport)
    }

    /// A mailer that keeps what it sends, and the list to read it from.
    pub fn capture() -> (Self, Arc<Mutex<Vec<SentMail>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mailer = Self::new(
            "Cantine <ne-pas-repondre@cantine.example>",
            MailTransport::Capture(sent.clone()),
        )
        .expect("a valid sender");
        (mailer, sent)
    }

    pub fn describe(&self) -> String {
        match &self.transport {
            MailTransport::Smtp(_) => "SMTP (CANTINE_SMTP_URL)".into(),
            MailTransport::Files(dir) => format!(".eml files in {}", dir.display()),
            MailTransport::Capture(_) => "kept in memory".into(),
        }
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| anyhow::anyhow!("recipient address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())?;
        match &self.transport {
            MailTransport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            MailTransport::Files(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await?;
            }
            MailTransport::Capture(sent) => sent.lock().expect("mail capture").push(SentMail {
                to: to.to_string(),
                subject: subject.to_string(),
                body,
            }),
        }
        Ok(())
    }
}

pub const PASSWORD_SUBJECT: &str = "Votre mot de passe du portail famille";

/// The password e-mail families receive ("Générer votre mot de passe").
pub fn password_message(
    organisation: &str,
    login: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> String {
    let until = expires_at.with_timezone(&Paris).format("%d/%m/%Y à %H:%M");
    format!(
        "Bonjour,\n\n\
         Une demande de mot de passe a été faite pour votre compte du portail famille \
         ({organisation}).\n\n\
         Votre identifiant est votre adresse e-mail : {login}\n\n\
         Pour choisir votre mot de passe, ouvrez ce lien :\n{link}\n\n\
         Ce lien ne sert qu'une fois et expire le {until}. S'il a expiré, demandez-en un autre \
         avec « Générer votre mot de passe ». Choisir un mot de passe déverrouille aussi votre \
         compte s'il a été verrouillé après trois erreurs.\n\n\
         Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe \
         actuel reste valable.\n\n\
         {organisation}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_password_message_is_in_french_with_the_link_and_the_paris_deadline() {
        let (mailer, sent) = Mailer::capture();
        let body = password_message(
            "Terre de Camargue",
            "famille.dupont@example.fr",
            "http://x/mot-de-passe?jeton=abc",
            "2017-01-11T14:38:00Z".parse().unwrap(),
        );
        mailer
            .send("famille.dupont@example.fr", PASSWORD_SUBJECT, body)
            .await
            .unwrap();
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].body.contains("http://x/mot-de-passe?jeton=abc"));
        assert!(sent[0].body.contains("expire le 11/01/2017 à 15:38"));
        assert!(sent[0]
            .body
            .contains("Votre identifiant est votre adresse e-mail"));
    }

    #[tokio::test]
    async fn development_mail_is_written_as_eml_files() {
        let dir = std::env::temp_dir().join(format!("cantine-mail-{}", uuid::Uuid::new_v4()));
        let mailer = Mailer::from_settings(
            "Cantine <ne-pas-repondre@cantine.example>",
            None,
            dir.clone(),
        )
        .unwrap();
        mailer
            .send("a@example.fr", PASSWORD_SUBJECT, "Bonjour".into())
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(text.contains("To: a@example.fr"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
