//! Outgoing e-mail, in French: over SMTP (`CANTINE_SMTP_URL`), or written as `.eml` files for
//! development, or kept in memory for tests. Every message is a MIME message (`MIME-Version`)
//! with a `Date`, a `Message-ID`, a plain-text part and its HTML alternative.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// How long one SMTP exchange may take before it counts as a failure (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Where messages go.
#[derive(Clone)]
pub enum MailTransport {
    /// `smtp://host:port`, `smtp://user:pass@host:port`, `?tls=starttls` (or lettre's
    /// `tls=required` / `tls=opportunistic`), `smtps://…`.
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
    /// The plain-text part.
    pub body: String,
    /// The HTML alternative.
    pub html: String,
    /// The whole message as it would travel (headers and MIME parts).
    pub raw: String,
}

/// One message to send: French plain text and its HTML alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A stable id (the outbox's), so that a message sent twice after a crash carries the same
    /// `Message-ID`; `None`: a new one.
    pub message_key: Option<String>,
    /// `List-Unsubscribe` (RFC 2369): where the family turns this kind of e-mail off.
    pub list_unsubscribe: Option<String>,
}

/// The `List-Unsubscribe` header of an e-mail a family may turn off.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `CANTINE_SMTP_URL` as lettre reads it: `?tls=starttls` is lettre's `tls=required`
/// (STARTTLS, refused if the server does not offer it).
pub fn smtp_transport(url: &str) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let url = url.replace("tls=starttls", "tls=required");
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|e| anyhow::anyhow!("CANTINE_SMTP_URL: {e}"))?
        .timeout(Some(SMTP_TIMEOUT))
        .build())
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
            if settings.smtp_url.is_none() {
                return Self::new(&settings.mail_from, MailTransport::Capture(sent.clone()));
            }
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
            Some(url) => MailTransport::Smtp(smtp_transport(url)?),
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

    /// A plain-text message (the password link); its HTML alternative is made from the text.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        self.deliver(&OutgoingMail {
            to: to.to_string(),
            subject: subject.to_string(),
            html: html_of_text(&body),
            text: body,
            message_key: None,
            list_unsubscribe: None,
        })
        .await
    }

    /// The MIME message of `mail`: `Date` (the moment it leaves, by the wall clock, as relays
    /// expect), `Message-ID`, `MIME-Version`, text and HTML alternatives.
    pub fn message(&self, mail: &OutgoingMail) -> anyhow::Result<Message> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| anyhow::anyhow!("recipient address: {e}"))?;
        let domain = self.from.email.domain().to_string();
        let key = mail
            .message_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .date_now()
            .message_id(Some(format!("<{key}@{domain}>")));
        if let Some(link) = &mail.list_unsubscribe {
            builder = builder.header(ListUnsubscribe(link.clone()));
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))?)
    }

    /// Sends one message; an error says it did not leave (the caller retries).
    pub async fn deliver(&self, mail: &OutgoingMail) -> anyhow::Result<()> {
        let message = self.message(mail)?;
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
                to: mail.to.clone(),
                subject: mail.subject.clone(),
                body: mail.text.clone(),
                html: mail.html.clone(),
                raw: String::from_utf8_lossy(&message.formatted()).into_owned(),
            }),
        }
        Ok(())
    }
}

pub use crate::domain::notification::{escape_html, html_of_text};

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
        for header in ["\r\nDate: ", "\r\nMessage-ID: <", "\r\nMIME-Version: 1.0"] {
            assert!(text.contains(header), "{header:?} in {text}");
        }
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(text.contains("Content-Type: text/html; charset=utf-8"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_smtp_url_takes_starttls_credentials_or_neither() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://facteur:secret@mail.example:587?tls=starttls",
            "smtp://mail.example:587?tls=required",
            "smtps://facteur:secret@mail.example",
        ] {
            smtp_transport(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        assert!(smtp_transport("smtp://mail.example?tls=sometimes").is_err());
        assert!(smtp_transport("http://mail.example").is_err());
    }

    #[test]
    fn the_html_alternative_escapes_and_keeps_paragraphs() {
        let html = html_of_text("Bonjour <Dupont>,\n\nMontant : 16,60 €\nÀ payer");
        assert!(html.contains("<p>Bonjour &lt;Dupont&gt;,</p>"));
        assert!(html.contains("<p>Montant : 16,60 €<br>\nÀ payer</p>"));
    }

    #[test]
    fn the_same_outbox_key_gives_the_same_message_id() {
        let (mailer, _) = Mailer::capture();
        let mail = OutgoingMail {
            to: "a@example.fr".into(),
            subject: "Sujet".into(),
            text: "Texte".into(),
            html: "<p>Texte</p>".into(),
            message_key: Some("outbox-42".into()),
            list_unsubscribe: Some("<https://cantine.test/compte/courriels>".into()),
        };
        let raw = String::from_utf8(mailer.message(&mail).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("Message-ID: <outbox-42@cantine.example>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe: <https://cantine.test/compte/courriels>"),
            "{raw}"
        );
    }
}
