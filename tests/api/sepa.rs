//! SEPA direct debit (issue 16, point 5): mandates checked and recorded as events, the
//! creditor's ICS, the month's pain.008.001.02 file validated against the published XSD by a
//! real validator (xmllint), and rejected debits re-opening their invoices.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use uuid::Uuid;

use cantine::domain::account::Role;

use crate::helpers::*;
use crate::month_close::{billed_later_canteen, invoice_view, relogin};

pub const CREDITOR_IBAN: &str = "FR76 3000 1007 9412 3456 7890 185";
pub const IBAN_A: &str = "FR76 3000 6000 0112 3456 7890 189";
pub const IBAN_B: &str = "DE89 3704 0044 0532 0130 00";

fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pain.008.001.02.xsd")
}

/// Validates `xml` against the official pain.008.001.02 schema with xmllint; its verdict and
/// what it said.
pub fn validate(xml: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("cantine-sepa-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batch.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd())
        .arg(&file)
        .output()
        .expect("xmllint (Debian: apt-get install libxml2-utils; .ci/run installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Three billed-later families with December invoices, issued on 1 January 2027: GARCIA
/// (2 days, 9.94), MARTIN (1 day, 4.97), and PETIT (1 day) who has no mandate.
pub struct December {
    pub app: TestApp,
    pub finance: String,
    pub admin: String,
    pub families: Vec<Family>,
}

pub async fn december() -> December {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut families = Vec::new();
    for (name, child, days) in [
        ("GARCIA", "Emma", vec!["2026-12-10", "2026-12-11"]),
        ("MARTIN", "Léo", vec!["2026-12-10"]),
        ("PETIT", "Jade", vec!["2026-12-11"]),
    ] {
        let family = family_with_child(&app, &canteen.admin, name, child).await;
        book_and_confirm(&app, &canteen, &family, &days).await;
        families.push(family);
    }
    app.wait_seconds(29 * 24 * 3600);
    for family in &mut families {
        relogin(&app, family).await;
    }
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    all_fresh(&app).await;
    let finance = app.staff_token(Role::Finance).await;
    let admin = app.staff_token(Role::Admin).await;
    December {
        app,
        finance,
        admin,
        families,
    }
}

pub async fn set_creditor(app: &TestApp, finance: &str) {
    app.put(
        "/api/v1/finance/creditor",
        finance,
        json!({"name": "Régie de la restauration scolaire", "creditor_id": "FR72ZZZ123456",
               "iban": CREDITOR_IBAN, "bic": "BDFEFRPPCCT"}),
    )
    .await
    .assert_status(200);
}

pub async fn sign(
    app: &TestApp,
    token: &str,
    family: &Family,
    iban: &str,
    rum: &str,
    sequence: &str,
) -> Reply {
    app.post(
        "/api/v1/finance/mandates",
        token,
        json!({"family_id": family.id, "iban": iban, "bic": "AGRIFRPP812", "holder": "Mme Inès Garcia-Lefèvre",
               "rum": rum, "signed_on": "2026-11-20", "sequence": sequence}),
    )
    .await
}

async fn events_of(app: &TestApp, event_type: &str) -> Vec<(Value, String, String)> {
    sqlx::query_as(
        "SELECT payload, metadata->>'actor_role', metadata->>'actor' FROM events
          WHERE event_type = $1 ORDER BY global_position",
    )
    .bind(event_type)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn mandates_and_the_creditor_id_are_checked_and_recorded_as_events() {
    let December {
        app,
        finance,
        admin,
        families,
    } = december().await;
    let before = app.event_count().await;

    // The creditor's settings: the ICS and the account are checked.
    let creditor = |body: Value| {
        let app = &app;
        let finance = finance.clone();
        async move { app.put("/api/v1/finance/creditor", &finance, body).await }
    };
    app.get("/api/v1/finance/creditor", &finance)
        .await
        .assert_problem(404, "not_found");
    creditor(json!({"creditor_id": "FR72ZZZ123457", "iban": CREDITOR_IBAN, "bic": "BDFEFRPPCCT"}))
        .await
        .assert_problem(422, "invalid_creditor_id");
    creditor(json!({"creditor_id": "FR72ZZZ123456", "iban": "FR7630001007941234567890186", "bic": "BDFEFRPPCCT"}))
        .await
        .assert_problem(422, "iban_checksum");
    creditor(json!({"creditor_id": "FR72ZZZ123456", "iban": CREDITOR_IBAN, "bic": "BDF"}))
        .await
        .assert_problem(422, "invalid_bic");

    // Mandates: the IBAN by its ISO 13616 checksum, the BIC, the holder, the RUM, the date.
    let a = &families[0];
    for (iban, bic, holder, rum, signed_on, sequence, status, code) in [
        (
            "FR76 3000 6000 0112 3456 7890 188",
            "AGRIFRPP812",
            "Mme Garcia",
            "RUM-1",
            "2026-11-20",
            "first",
            422,
            "iban_checksum",
        ),
        (
            "FR76 3000 6000 0112 3456 7890",
            "AGRIFRPP812",
            "Mme Garcia",
            "RUM-1",
            "2026-11-20",
            "first",
            422,
            "invalid_iban",
        ),
        (
            IBAN_A,
            "AGRI",
            "Mme Garcia",
            "RUM-1",
            "2026-11-20",
            "first",
            422,
            "invalid_bic",
        ),
        (
            IBAN_A,
            "AGRIFRPP812",
            "  ",
            "RUM-1",
            "2026-11-20",
            "first",
            422,
            "invalid_holder",
        ),
        (
            IBAN_A,
            "AGRIFRPP812",
            "Mme Garcia",
            "RUM#1",
            "2026-11-20",
            "first",
            422,
            "invalid_rum",
        ),
        (
            IBAN_A,
            "AGRIFRPP812",
            "Mme Garcia",
            "RUM-1",
            "2027-02-01",
            "first",
            422,
            "signed_in_future",
        ),
        (
            IBAN_A,
            "AGRIFRPP812",
            "Mme Garcia",
            "RUM-1",
            "2026-11-20",
            "monthly",
            422,
            "invalid_sequence",
        ),
    ] {
        app.post(
            "/api/v1/finance/mandates",
            &finance,
            json!({"family_id": a.id, "iban": iban, "bic": bic, "holder": holder, "rum": rum,
                   "signed_on": signed_on, "sequence": sequence}),
        )
        .await
        .assert_problem(status, code);
    }
    app.post(
        "/api/v1/finance/mandates",
        &finance,
        json!({"family_id": Uuid::new_v4(), "iban": IBAN_A, "bic": "AGRIFRPP812", "holder": "X",
               "rum": "RUM-1", "signed_on": "2026-11-20"}),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(app.event_count().await, before, "refusals record nothing");

    set_creditor(&app, &finance).await;
    let shown = app.get("/api/v1/finance/creditor", &finance).await;
    assert_eq!(shown.assert_status(200)["creditor_id"], "FR72ZZZ123456");
    assert_eq!(shown.body["iban"], "FR7630001007941234567890185");

    let signed = sign(&app, &finance, a, IBAN_A, "CANTINE-GARCIA-001", "first").await;
    let signed = signed.assert_status(201).clone();
    assert_eq!(signed["iban"], "FR7630006000011234567890189");
    assert_eq!(signed["next_debit"], "FRST");
    // The RUM is unique in the organisation; one mandate in force per family.
    sign(
        &app,
        &finance,
        &families[1],
        IBAN_B,
        "CANTINE-GARCIA-001",
        "first",
    )
    .await
    .assert_problem(409, "rum_taken");
    sign(&app, &finance, a, IBAN_A, "CANTINE-GARCIA-002", "first")
        .await
        .assert_problem(409, "mandate_in_force");
    // Administrators record the forms handed in at the town hall too.
    sign(
        &app,
        &admin,
        &families[1],
        IBAN_B,
        "CANTINE-MARTIN-001",
        "recurrent",
    )
    .await
    .assert_status(201);

    let events = events_of(&app, "MandateSigned").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].1, "finance", "the staff member is the actor");
    assert_eq!(events[1].1, "admin");
    assert_eq!(events[0].0["MandateSigned"]["rum"], "CANTINE-GARCIA-001");
    assert_eq!(events_of(&app, "SepaCreditorSet").await.len(), 1);

    let listed = app
        .get(
            &format!("/api/v1/finance/families/{}/mandates", a.id),
            &finance,
        )
        .await;
    assert_eq!(listed.assert_status(200).as_array().unwrap().len(), 1);
    app.get(
        &format!("/api/v1/finance/families/{}/mandates", Uuid::new_v4()),
        &finance,
    )
    .await
    .assert_problem(404, "not_found");

    // Revoked (once, with a reason): a new mandate may then be signed.
    let path = format!(
        "/api/v1/finance/mandates/{}/revocation",
        signed["id"].as_str().unwrap()
    );
    app.post(&path, &finance, json!({"reason": " "}))
        .await
        .assert_problem(422, "reason_required");
    app.post(&path, &finance, json!({"reason": "changement de banque"}))
        .await
        .assert_status(200);
    app.post(&path, &finance, json!({"reason": "changement de banque"}))
        .await
        .assert_problem(409, "already_revoked");
    sign(&app, &finance, a, IBAN_A, "CANTINE-GARCIA-001", "first")
        .await
        .assert_problem(409, "rum_taken");
    sign(&app, &finance, a, IBAN_A, "CANTINE-GARCIA-002", "first")
        .await
        .assert_status(201);
    assert_eq!(events_of(&app, "MandateRevoked").await.len(), 1);

    // The family sees its mandate (masked) on "Mon compte".
    let (status, page) = portal_page(&app, a, "/compte").await;
    assert_eq!(status, 200);
    assert_shows(
        &page,
        &[
            "Prélèvement automatique",
            "CANTINE-GARCIA-002",
            "FR•• •••• 0189",
        ],
    );
    assert!(
        !page.contains("FR7630006000011234567890189"),
        "the IBAN is masked"
    );
}

#[tokio::test]
async fn the_months_collection_file_validates_against_the_pain008_xsd() {
    let December {
        app,
        finance,
        families,
        ..
    } = december().await;
    app.get("/api/v1/finance/sepa/2026-12", &finance)
        .await
        .assert_problem(422, "sepa_creditor_missing");
    set_creditor(&app, &finance).await;
    app.get("/api/v1/finance/sepa/2026-12", &finance)
        .await
        .assert_problem(404, "nothing_to_collect");
    app.get("/api/v1/finance/sepa/2026-13", &finance)
        .await
        .assert_problem(400, "invalid_parameter");
    sign(&app, &finance, &families[0], IBAN_A, "RUM-GARCIA", "first")
        .await
        .assert_status(201);
    sign(
        &app,
        &finance,
        &families[1],
        IBAN_B,
        "RUM-MARTIN",
        "recurrent",
    )
    .await
    .assert_status(201);
    let garcia_invoice = invoice_view_first(&app, &families[0]).await;

    let response = app
        .raw()
        .await
        .get(format!("{}/api/v1/finance/sepa/2026-12", app.address))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("PRLV-2027-000001.xml"));
    let xml = response.text().await.unwrap();
    let (valid, said) = validate(&xml);
    assert!(
        valid,
        "the file validates against pain.008.001.02.xsd: {said}\n{xml}"
    );

    // Two debits: GARCIA's first (FRST) block before MARTIN's recurrent (RCUR) one; PETIT has
    // no mandate. Pre-notified today (1 January 2027), collected 14 days later (Friday 15th).
    assert!(xml.contains("<NbOfTxs>2</NbOfTxs>"), "{xml}");
    assert!(xml.contains("<CtrlSum>14.91</CtrlSum>"), "{xml}");
    let frst = xml.find("<SeqTp>FRST</SeqTp>").expect("a FRST block");
    let rcur = xml.find("<SeqTp>RCUR</SeqTp>").expect("a RCUR block");
    assert!(frst < rcur, "FRST then RCUR");
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">9.94</InstdAmt>"));
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">4.97</InstdAmt>"));
    assert!(
        xml.contains("<ReqdColltnDt>2027-01-15</ReqdColltnDt>"),
        "{xml}"
    );
    assert!(
        xml.contains("<PreNtfctnDt>2027-01-01</PreNtfctnDt>"),
        "{xml}"
    );
    assert!(xml.contains("<MndtId>RUM-GARCIA</MndtId>"));
    assert!(xml.contains("<Id>FR72ZZZ123456</Id>"));
    assert!(xml.contains("<IBAN>FR7630006000011234567890189</IBAN>"));
    assert!(
        xml.contains("<Nm>Mme Ines Garcia-Lefevre</Nm>"),
        "SEPA characters: {xml}"
    );
    assert!(!xml.contains("PETIT"));

    // The debited invoices count as paid: no longer owed; PETIT still owes.
    all_fresh(&app).await;
    let paid = invoice_view(&app, &families[0], &garcia_invoice).await;
    assert_eq!(
        (&paid["paid"], &paid["due"]),
        (&json!("9.94"), &json!("0.00"))
    );
    let debtors = app.get("/api/v1/finance/debtors", &finance).await;
    let names: Vec<&str> = debtors
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["family_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["PETIT"]);
    let presented = events_of(&app, "SepaDebitPresented").await;
    assert_eq!(presented.len(), 2);
    assert_eq!(presented[0].1, "finance");
    assert_eq!(events_of(&app, "SepaBatchPrepared").await.len(), 1);
    // Each family is pre-notified by e-mail: the amount and the day of the debit.
    let pool = app.pool.clone();
    eventually("the pre-notification e-mails", || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM mail_outbox WHERE kind = 'sepa_prenotification'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            n == 2
        }
    })
    .await;
    let (subject, text): (String, String) = sqlx::query_as(
        "SELECT subject, text_body FROM mail_outbox WHERE kind = 'sepa_prenotification'
          AND family_id = $1::uuid",
    )
    .bind(&families[0].id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        subject.contains("prélèvement de 9,94 € le 15/01/2027"),
        "{subject}"
    );
    assert!(
        text.contains("mandat de prélèvement SEPA RUM-GARCIA"),
        "{text}"
    );

    // Asked again: the same file, byte for byte, nothing presented twice.
    let again = sepa_file(&app, &finance, "2026-12").await;
    assert_eq!(again, xml);
    assert_eq!(events_of(&app, "SepaDebitPresented").await.len(), 2);

    // A mandate signed later makes PETIT collectable: a second batch, with its debit only.
    sign(&app, &finance, &families[2], IBAN_B, "RUM-PETIT", "first")
        .await
        .assert_status(201);
    let second = sepa_file(&app, &finance, "2026-12").await;
    assert!(
        second.contains("<MsgId>PRLV-2027-000002</MsgId>"),
        "{second}"
    );
    assert!(second.contains("<NbOfTxs>1</NbOfTxs>"));
    assert!(validate(&second).0);

    // The check is real: a broken file fails it.
    for broken in [
        xml.replace("<SeqTp>FRST</SeqTp>", "<SeqTp>FIRST</SeqTp>"),
        xml.replace("<ReqdColltnDt>2027-01-15</ReqdColltnDt>", ""),
        xml.replace(
            "<IBAN>FR7630006000011234567890189</IBAN>",
            "<IBAN>fr76 3000</IBAN>",
        ),
        xml.replace(
            "<InstdAmt Ccy=\"EUR\">9.94</InstdAmt>",
            "<InstdAmt>9.94</InstdAmt>",
        ),
        xml.replace("</CstmrDrctDbtInitn>", ""),
    ] {
        let (valid, said) = validate(&broken);
        assert!(!valid, "a broken file must fail: {broken}");
        assert!(!said.is_empty());
    }
}

/// The month's file, asserting 200 and XML.
pub async fn sepa_file(app: &TestApp, token: &str, month: &str) -> String {
    let response = app
        .raw()
        .await
        .get(format!("{}/api/v1/finance/sepa/{month}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    response.text().await.unwrap()
}

async fn invoice_view_first(app: &TestApp, family: &Family) -> String {
    app.get("/api/v1/invoices", &family.token)
        .await
        .assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_rejected_debit_reopens_its_invoice() {
    let December {
        app,
        finance,
        families,
        ..
    } = december().await;
    set_creditor(&app, &finance).await;
    sign(&app, &finance, &families[0], IBAN_A, "RUM-GARCIA", "first")
        .await
        .assert_status(201);
    sign(&app, &finance, &families[1], IBAN_B, "RUM-MARTIN", "first")
        .await
        .assert_status(201);
    let garcia_invoice = invoice_view_first(&app, &families[0]).await;
    let martin_invoice = invoice_view_first(&app, &families[1]).await;
    let xml = sepa_file(&app, &finance, "2026-12").await;
    assert!(validate(&xml).0);
    let garcia_number = invoice_view(&app, &families[0], &garcia_invoice).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let end_to_end = format!("{garcia_number}-000001");
    assert!(
        xml.contains(&format!("<EndToEndId>{end_to_end}</EndToEndId>")),
        "{xml}"
    );

    // Refusals change nothing.
    let before = app.event_count().await;
    let reject = |body: Value| {
        let app = &app;
        let finance = finance.clone();
        async move {
            app.post("/api/v1/finance/sepa-rejections", &finance, body)
                .await
        }
    };
    reject(json!({"end_to_end_id": end_to_end, "reason_code": "XX99"}))
        .await
        .assert_problem(422, "invalid_reason_code");
    reject(json!({"end_to_end_id": "2027-999999-000001", "reason_code": "AM04"}))
        .await
        .assert_problem(404, "not_found");
    reject(json!({"reason_code": "AM04"}))
        .await
        .assert_problem(422, "debit_required");
    assert_eq!(app.event_count().await, before);

    // Insufficient funds: GARCIA's invoice is due again, once.
    let rejected = reject(json!({"end_to_end_id": end_to_end, "reason_code": "am04"})).await;
    let rejected = rejected.assert_status(201).clone();
    assert_eq!(rejected["reason_code"], "AM04");
    assert_eq!(rejected["reason"], "Provision insuffisante");
    assert_eq!(rejected["invoices"], json!([garcia_number]));
    reject(json!({"invoice_id": garcia_invoice, "reason_code": "AM04"}))
        .await
        .assert_problem(409, "already_rejected");
    all_fresh(&app).await;
    let due = invoice_view(&app, &families[0], &garcia_invoice).await;
    assert_eq!(
        (&due["paid"], &due["due"]),
        (&json!("0.00"), &json!("9.94"))
    );
    let (_, role, _) = events_of(&app, "SepaDebitRejected").await.remove(0);
    assert_eq!(role, "finance");

    // The debtors list shows it with the bank's reason; the ledger books the debit and its
    // rejection.
    let debtors = app.get("/api/v1/finance/debtors", &finance).await;
    let garcia = debtors
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["family_name"] == "GARCIA")
        .expect("GARCIA owes again")
        .clone();
    assert_eq!(garcia["invoices"][0]["sepa_rejection"]["code"], "AM04");
    let ledger = app.get("/api/v1/ledger", &families[0].token).await;
    assert_eq!(ledger.assert_status(200)["balance"], "-9.94");
    let labels = ledger.body.to_string();
    assert!(
        labels.contains("Prélèvement SEPA du 15/01/2027"),
        "{labels}"
    );
    assert!(labels.contains("Prélèvement SEPA rejeté (AM04"), "{labels}");

    // A bank's R-file (pain.002) rejects MARTIN's debit: account closed. The same file twice
    // records nothing more.
    let martin_number = invoice_view(&app, &families[1], &martin_invoice).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let r_file = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>R-1</MsgId><CreDtTm>2027-01-18T09:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>PRLV-2027-000001</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>PRLV-2027-000001-FRST</OrgnlPmtInfId>
<TxInfAndSts><OrgnlEndToEndId>{martin_number}-000001</OrgnlEndToEndId><TxSts>RJCT</TxSts>
<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"#
    );
    let from_file = app
        .post(
            "/api/v1/finance/sepa-rejections/file",
            &finance,
            json!({"name": "retours-janvier.xml", "xml": r_file}),
        )
        .await;
    assert_eq!(from_file.assert_status(201).as_array().unwrap().len(), 1);
    assert_eq!(from_file.body[0]["reason_code"], "AC04");
    let twice = app
        .post(
            "/api/v1/finance/sepa-rejections/file",
            &finance,
            json!({"name": "retours-janvier.xml", "xml": r_file}),
        )
        .await;
    assert_eq!(twice.assert_status(201).as_array().unwrap().len(), 0);
    app.post(
        "/api/v1/finance/sepa-rejections/file",
        &finance,
        json!({"name": "x.xml", "xml": "<html/>"}),
    )
    .await
    .assert_problem(422, "invalid_r_file");
    all_fresh(&app).await;
    let due = invoice_view(&app, &families[1], &martin_invoice).await;
    assert_eq!(due["due"], "4.97");

    // A rejected invoice is not presented again by itself: the month's file stays the same.
    let again = sepa_file(&app, &finance, "2026-12").await;
    assert_eq!(again, xml);

    // The month's reconciliation balances, and a replay gives the same rows.
    let report = app
        .get("/api/v1/finance/reconciliation?month=2027-01", &finance)
        .await;
    assert_eq!(
        report.assert_status(200)["balanced"],
        true,
        "{}",
        report.body
    );
    for difference in cantine::projections::rebuild::verify(&app.pool, &cantine::projections::all())
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}

#[tokio::test]
async fn the_finance_page_prepares_the_batch_downloads_it_and_records_a_rejection() {
    let December {
        app,
        finance,
        families,
        ..
    } = december().await;
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &finance);
    let page = "/gestion/finances/prelevements?mois=2026-12";
    // The creditor, then a mandate with a mistyped IBAN (refused in French, what was typed
    // kept), then right.
    let creditor = cookie_form(
        &app,
        "/gestion/finances/prelevements/creancier?mois=2026-12",
        &finance,
        &[
            ("csrf", &csrf),
            ("nom", "Régie"),
            ("ics", "FR72ZZZ123456"),
            ("iban", CREDITOR_IBAN),
            ("bic", "BDFEFRPPCCT"),
        ],
    )
    .await;
    assert_eq!(creditor.status(), 303);
    let mandate = |iban: &'static str| {
        let (app, finance, csrf, family) = (&app, &finance, csrf.clone(), &families[0]);
        async move {
            cookie_form(
                app,
                "/gestion/finances/prelevements/mandats?mois=2026-12",
                finance,
                &[
                    ("csrf", csrf.as_str()),
                    ("famille", family.id.as_str()),
                    ("titulaire", "Mme Garcia"),
                    ("iban", iban),
                    ("bic", "AGRIFRPP812"),
                    ("rum", "RUM-PAGE-1"),
                    ("signe", "2026-11-20"),
                    ("sequence", "first"),
                ],
            )
            .await
        }
    };
    let refused = mandate("FR76 3000 6000 0112 3456 7890 188").await;
    assert_eq!(refused.status(), 422);
    let said = refused.text().await.unwrap();
    assert_shows(
        &said,
        &[
            "L'IBAN est incorrect : sa clé de contrôle ne correspond pas",
            "value=\"RUM-PAGE-1\"",
        ],
    );
    assert_eq!(mandate(IBAN_A).await.status(), 303);

    // "Préparer le lot": made, listed, and its file is the API's.
    let prepared = cookie_form(
        &app,
        "/gestion/finances/prelevements/lot?mois=2026-12",
        &finance,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(prepared.status(), 303);
    let (status, html) = cookie_page(&app, page, &finance).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &["PRLV-2027-000001", "15/01/2027", "GARCIA", "FRST", "9,94 €"],
    );
    let batch_id: String = sqlx::query_scalar("SELECT id::text FROM sepa_batches")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (status, file) = cookie_page(
        &app,
        &format!("/gestion/finances/prelevements/fichier?mois=2026-12&lot={batch_id}"),
        &finance,
    )
    .await;
    assert_eq!(status, 200);
    assert!(validate(&file).0);
    assert_eq!(file, sepa_file(&app, &finance, "2026-12").await);

    // A rejection recorded from the page: the invoice is owed again.
    let reference: String =
        sqlx::query_scalar("SELECT provider_ref FROM payments WHERE method = 'sepa'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let rejected = cookie_form(
        &app,
        "/gestion/finances/prelevements/rejets?mois=2026-12",
        &finance,
        &[
            ("csrf", &csrf),
            ("reference", &reference),
            ("motif", "AC04"),
        ],
    )
    .await;
    assert_eq!(rejected.status(), 303);
    let (_, html) = cookie_page(&app, page, &finance).await;
    assert!(html.contains("(AC04)"), "{html}");
    let (_, debtors) = cookie_page(&app, "/gestion/finances/debiteurs", &finance).await;
    assert!(
        debtors.contains("Prélèvement rejeté le") && debtors.contains("AC04 : Compte clôturé"),
        "{debtors}"
    );
}
