//! E-mail notifications (issue 18): decided by a consumer of the log into an outbox, sent from
//! it to a real SMTP server (aiosmtpd, `tests/smtp/server.py`), once each, in French, with
//! their RFC 5322 headers; a restart between the decision and the sending sends once; a server
//! down or refusing delays the e-mails and loses none.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cantine::config::Settings;
use serde_json::{json, Value};

use crate::helpers::*;

/// A real SMTP server process: what it accepts is written to a folder, decoded.
struct SmtpServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl SmtpServer {
    fn start(args: &[&str]) -> Self {
        Self::start_on(0, args)
    }

    /// On this port (0: any free one), with the script's options.
    fn start_on(port: u16, args: &[&str]) -> Self {
        let python = std::env::var("CANTINE_TEST_SMTP_PYTHON")
            .unwrap_or_else(|_| "/tmp/cantine-aiosmtpd/bin/python".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let dir = std::env::temp_dir().join(format!("cantine-smtp-{}", uuid::Uuid::new_v4()));
        let mut child = Command::new(&python)
            .arg(script)
            .arg("--dir")
            .arg(&dir)
            .arg("--port")
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{python}: {e}; install aiosmtpd as .ci/run does (CANTINE_TEST_SMTP_PYTHON)")
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP server's port, not {line:?}"));
        SmtpServer { child, dir, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far, decoded, in the order received.
    fn received(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// How many messages it refused (4xx).
    fn refused(&self) -> usize {
        std::fs::read_to_string(self.dir.join("refused.log"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The service's settings with its e-mail through `smtp_url`, retried after 1 s, 2 s, …
fn settings_with_smtp(url: String, smtp_url: String) -> Settings {
    let mut settings = test_settings(url, Some(guide_now()));
    settings.smtp_url = Some(smtp_url);
    settings.mail_retry_seconds = 1;
    settings
}

async fn wait_until<F, Fut>(what: &str, seconds: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {seconds} s waiting for: {what}");
}

async fn login_of(app: &TestApp, family: &Family) -> String {
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    login
}

/// (kind, status, attempts) of every outbox row, oldest first.
async fn outbox(app: &TestApp) -> Vec<(String, String, i32)> {
    sqlx::query_as("SELECT kind, status, attempts FROM mail_outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

fn subjects(received: &[Value]) -> Vec<String> {
    received
        .iter()
        .map(|m| m["headers"]["Subject"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_kind_is_sent_once_in_french_through_a_real_smtp_server_with_a_login() {
    let smtp = SmtpServer::start(&["--user", "facteur", "--password", "secret"]);
    let smtp_url = format!("smtp://facteur:secret@127.0.0.1:{}", smtp.port);
    let app = spawn_app_from(settings_with_smtp(fresh_database().await, smtp_url)).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    let login = login_of(&app, &family).await;

    // Confirmed (prepaid: amount and deadline), then paid.
    let paid = book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"],
    )
    .await;
    pay(&app, &family, &[&paid]).await;
    // Confirmed, then left unpaid past its deadline: expired.
    book_and_confirm(&app, &canteen, &family, &["2017-02-02"]).await;
    app.advance_clock(&canteen.admin, 61).await;

    wait_until("four e-mails", 20, || async { smtp.received().len() >= 4 }).await;
    // Nothing more comes: each was sent once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = smtp.received();
    let mut got = subjects(&received);
    got.sort();
    assert_eq!(
        got,
        [
            "Communauté de communes Terre de Camargue : paiement reçu pour la réservation N° 00001",
            "Communauté de communes Terre de Camargue : réservation N° 00001 confirmée",
            "Communauté de communes Terre de Camargue : réservation N° 00002 annulée faute de paiement",
            "Communauté de communes Terre de Camargue : réservation N° 00002 confirmée",
        ]
    );
    let by_subject = |part: &str| {
        received
            .iter()
            .find(|m| m["headers"]["Subject"].as_str().unwrap().contains(part))
            .unwrap()
            .clone()
    };
    for message in &received {
        assert_eq!(message["rcpt_tos"], serde_json::json!([login]));
        assert_eq!(
            message["login"], "facteur",
            "authenticated with the URL's login"
        );
        let headers = &message["headers"];
        for header in ["Date", "Message-ID", "MIME-Version", "From", "To"] {
            assert!(headers[header].is_string(), "{header} in {headers}");
        }
        assert_eq!(headers["MIME-Version"], "1.0");
        assert_eq!(message["content_type"], "multipart/alternative");
        let text = message["text"].as_str().unwrap();
        let html = message["html"].as_str().unwrap();
        assert!(text.starts_with("Bonjour,"), "{text}");
        assert!(text.contains("Terre de Camargue"), "{text}");
        assert!(html.contains("<p>Bonjour,</p>"), "{html}");
    }
    let confirmed = by_subject("00001 confirmée");
    let text = confirmed["text"].as_str().unwrap();
    assert!(
        text.contains("Votre réservation N° 00001 pour Léa est confirmée."),
        "{text}"
    );
    assert!(text.contains("Montant : 16,60 €"), "{text}");
    assert!(
        text.contains("Réglez-la avant le 11/01/2017 à 15:38 (heure de Paris)"),
        "{text}"
    );
    assert!(
        text.contains("4 jours du 23/01/2017 au 31/01/2017"),
        "{text}"
    );
    assert!(confirmed["html"].as_str().unwrap().contains("16,60 €"));
    let payment = by_subject("paiement reçu");
    assert!(payment["text"]
        .as_str()
        .unwrap()
        .contains("Nous avons bien reçu votre paiement de 16,60 €"));
    let expired = by_subject("annulée faute de paiement");
    assert!(expired["text"]
        .as_str()
        .unwrap()
        .contains("n'a pas été réglée avant l'heure limite"));
    assert!(by_subject("00002 confirmée")["text"]
        .as_str()
        .unwrap()
        .contains("Montant : 4,15 €"));

    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows
        .iter()
        .all(|(_, status, attempts)| status == "sent" && *attempts == 1));
}

#[tokio::test]
async fn a_restart_between_the_decision_and_the_sending_sends_once() {
    let smtp = SmtpServer::start(&[]);
    let url = fresh_database().await;
    let first = spawn_app_from(settings_with_smtp(url.clone(), smtp.url())).await;
    // The first server decides (its consumer runs) but sends nothing: its sender is stopped.
    first.stop_jobs();
    let canteen = setup_repausset(&first).await;
    let family = family_with_child(&first, &canteen.admin, "MARTIN", "Paul").await;
    book_and_confirm(&first, &canteen, &family, &["2017-01-23"]).await;
    wait_until("the e-mail decided", 10, || async {
        outbox(&first).await.len() == 1
    })
    .await;
    first.stop_background_cleanly().await;
    drop(first);
    assert_eq!(outbox_status(&url).await, [("pending".to_string(), 0)]);
    assert!(smtp.received().is_empty());

    // The next start goes on from the consumer's checkpoint and sends what was decided.
    let second = spawn_app_from(settings_with_smtp(url, smtp.url())).await;
    wait_until("the e-mail sent", 10, || async {
        smtp.received().len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        subjects(&smtp.received()),
        ["Communauté de communes Terre de Camargue : réservation N° 00001 confirmée"]
    );
    assert_eq!(
        outbox(&second).await,
        [("reservation_confirmed".to_string(), "sent".to_string(), 1)]
    );
}

async fn outbox_status(url: &str) -> Vec<(String, i32)> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query_as("SELECT status, attempts FROM mail_outbox ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn an_smtp_outage_delays_the_mails_and_loses_none() {
    // A port where no server listens yet: the mail server is down.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = spawn_app_from(settings_with_smtp(
        fresh_database().await,
        format!("smtp://127.0.0.1:{port}"),
    ))
    .await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "BERNARD", "Zoé").await;
    // Commands do not wait for the mail server.
    let started = std::time::Instant::now();
    book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-24"]).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    wait_until("both e-mails tried once and kept", 10, || async {
        let rows = outbox(&app).await;
        rows.len() == 2 && rows.iter().all(|(_, s, a)| s == "pending" && *a >= 1)
    })
    .await;

    // The server comes back, busy: it refuses the first two messages (451), then accepts.
    let smtp = SmtpServer::start_on(port, &["--refuse-first", "2"]);
    wait_until("both e-mails delivered", 40, || async {
        smtp.received().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.refused(), 2);
    let mut got = subjects(&smtp.received());
    got.sort();
    assert_eq!(
        got,
        [
            "Communauté de communes Terre de Camargue : réservation N° 00001 confirmée",
            "Communauté de communes Terre de Camargue : réservation N° 00002 confirmée",
        ]
    );
    let rows = outbox(&app).await;
    assert!(
        rows.iter().all(|(_, s, a)| s == "sent" && *a >= 2),
        "sent after failed tries: {rows:?}"
    );
    let (errors,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM mail_outbox WHERE last_error IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(errors, 0, "a sent e-mail keeps no error");
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_marked_failed_and_counted() {
    let smtp = SmtpServer::start(&["--refuse-first", "1000"]);
    let mut settings = settings_with_smtp(fresh_database().await, smtp.url());
    settings.mail_max_attempts = 2;
    let app = spawn_app_from(settings).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "PETIT", "Jules").await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    wait_until("the e-mail failed", 15, || async {
        outbox(&app).await == [("reservation_confirmed".to_string(), "failed".to_string(), 2)]
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.refused(), 2, "no try after the last");
    let (error,): (String,) = sqlx::query_as("SELECT last_error FROM mail_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        error.contains("451"),
        "the server's refusal is kept: {error}"
    );
    let metrics = cantine::app::queries::operations::metrics_text(&app.state)
        .await
        .unwrap();
    assert!(
        metrics.contains("cantine_mail_outbox{status=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("cantine_mail_outbox{status=\"sent\"} 0"));
}

/// The message whose subject contains `part`, the only one.
fn only(received: &[Value], part: &str) -> Value {
    let found: Vec<&Value> = received
        .iter()
        .filter(|m| m["headers"]["Subject"].as_str().unwrap().contains(part))
        .collect();
    assert_eq!(found.len(), 1, "once: {part} in {:?}", subjects(received));
    found[0].clone()
}

#[tokio::test]
async fn the_other_kinds_are_sent_once_in_french_and_the_family_chooses_the_optional_ones() {
    let smtp = SmtpServer::start(&[]);
    let app = spawn_app_from(settings_with_smtp(fresh_database().await, smtp.url())).await;
    app.pause_clock();
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    // "Mon compte": no payment receipts, everything else.
    let csrf = portal_csrf(&app, &family);
    let (status, location, _) = post_portal_form(
        &app,
        &family,
        "/compte/courriels",
        format!("csrf={csrf}&courriel=hold_reminder&courriel=invoice_issued&courriel=credit_note"),
    )
    .await;
    assert_eq!(
        (status.as_u16(), location.as_str()),
        (303, "/compte?fait=courriels#courriels")
    );
    let (_, html) = portal_page(&app, &family, "/compte").await;
    assert_shows(
        &html,
        &["Courriels reçus", "Accusé de réception de vos paiements"],
    );
    assert!(
        !html.contains(r#"value="payment_received" checked"#),
        "{html}"
    );

    // A hold 15 minutes before its deadline (14:38 UTC): reminded once.
    let paid = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    app.wait_seconds(46 * 60);
    wait_until("the hold's reminder", 20, || async {
        subjects(&smtp.received())
            .iter()
            .any(|s| s.contains("à régler avant"))
    })
    .await;
    // Paid (no receipt: turned off), then a paid day cancelled: a credit note.
    pay(&app, &family, &[&paid]).await;
    app.post(
        &format!("/api/v1/reservations/{paid}/cancel"),
        &family.token,
        json!({"days": ["2017-01-24"]}),
    )
    .await
    .assert_status(200);
    // A full day, the child in line, a place freed: offered.
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Paul").await;
    app.put(
        &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
        &canteen.admin,
        json!({"date": "2017-01-27", "capacity": 1}),
    )
    .await
    .assert_status(200);
    let holder = book_and_confirm(&app, &canteen, &other, &["2017-01-27"]).await;
    app.post(
        "/api/v1/waitlist",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-27"]}),
    )
    .await
    .assert_status(201);
    app.post_empty(
        &format!("/api/v1/reservations/{holder}/cancel"),
        &other.token,
    )
    .await
    .assert_status(200);
    wait_until("the place offered", 20, || async {
        subjects(&smtp.received())
            .iter()
            .any(|s| s.contains("liste d'attente"))
    })
    .await;
    // A billed-later month: its invoice once the month has ended, then its reminder.
    let mut period = repausset_period(&canteen.restaurant_id);
    period["label"] = json!("Périscolaire 2016-2017");
    period["payment"] = json!({"mode": "postpaid"});
    let postpaid = app
        .post("/api/v1/admin/periods", &canteen.admin, period)
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let booked = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": postpaid, "days": ["2017-01-30"]}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_empty(
        &format!("/api/v1/reservations/{booked}/confirm"),
        &family.token,
    )
    .await
    .assert_status(200);
    app.wait_seconds(22 * 24 * 3600);
    all_fresh(&app).await;
    cantine::app::invoicing::issue_month(
        &app.pool,
        app.state.clock.as_ref(),
        &app.state.organisation,
        "2017-01",
        None,
        "t",
    )
    .await
    .unwrap();
    app.wait_seconds(15 * 24 * 3600);
    all_fresh(&app).await;
    assert_eq!(
        cantine::app::jobs::reminders::run_once(&app.state)
            .await
            .unwrap(),
        1
    );
    wait_until("the invoice's reminder", 20, || async {
        subjects(&smtp.received())
            .iter()
            .any(|s| s.contains("Rappel : facture"))
    })
    .await;
    // Nothing more comes: each once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = smtp.received();
    let reminder = only(&received, "à régler avant 15:38");
    let text = reminder["text"].as_str().unwrap();
    assert!(
        text.contains("il vous reste jusqu'au 11/01/2017 à 15:38"),
        "{text}"
    );
    assert!(text.contains("Montant : 8,30 €"), "{text}");
    let note = only(&received, "avoir n° AV-2017-");
    assert!(note["text"]
        .as_str()
        .unwrap()
        .contains("Un avoir n° AV-2017-000001 de 4,15 €"));
    let offered = only(&received, "une place pour Léa (liste d'attente)");
    let text = offered["text"].as_str().unwrap();
    assert!(text.contains("Une place s'est libérée : Léa"), "{text}");
    assert!(text.contains("le 27/01/2017"), "{text}");
    let invoice = only(&received, "émise");
    let text = invoice["text"].as_str().unwrap();
    assert!(text.contains("La facture mensuelle n° 2017-"), "{text}");
    assert!(
        text.contains("(2017-01) a été émise. Montant : 4,15 €"),
        "{text}"
    );
    let followed = only(&received, "Rappel : facture n° 2017-");
    let text = followed["text"].as_str().unwrap();
    assert!(
        text.contains("reste à régler : 4,15 € sur 4,15 €"),
        "{text}"
    );
    assert!(text.contains("/factures/"), "{text}");
    // Turned off: no receipt of the payment.
    assert!(
        !subjects(&received)
            .iter()
            .any(|s| s.contains("paiement reçu")),
        "{:?}",
        subjects(&received)
    );
    // The optional ones say where to turn them off; the others do not.
    for message in [&reminder, &note, &invoice] {
        let header = message["headers"]["List-Unsubscribe"]
            .as_str()
            .unwrap_or("");
        assert!(
            header.ends_with("/compte#courriels>"),
            "{header}: {message}"
        );
    }
    for message in [&offered, &followed] {
        assert!(
            message["headers"]["List-Unsubscribe"].is_null(),
            "{message}"
        );
    }
    for message in &received {
        let text = message["text"].as_str().unwrap();
        assert!(text.starts_with("Bonjour,"), "{text}");
        assert!(text.contains("Terre de Camargue"), "{text}");
    }
}
