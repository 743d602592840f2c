//! Several towns on one install (issue 19): each served on its host name, with its own logins,
//! ids, numbers and data, strictly apart.
//!
//! The guard is PostgreSQL's, not the queries': a town's rows are in its own schema, owned by
//! its own role, and the service connects for a town as that role with that schema alone on its
//! search path. A query that forgets to say which town it means reads its own town's rows; one
//! that names another town's table is refused. Take `role` and `search_path` out of
//! `db::towns::town_options` and `the_database_keeps_a_town_to_its_own_rows` fails.

use std::collections::HashMap;

use cantine::domain::account::Role;
use cantine::projections;
use cantine::web::pages::session::SESSION_COOKIE;
use cantine::web::routes;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

const A: &str = "a.localhost";
const B: &str = "b.localhost";

/// One town's data, as the other town must never see it.
struct TownData {
    canteen: Canteen,
    family: Family,
    family_name: String,
    child_name: String,
    reservation_id: String,
    payment_id: String,
}

async fn fill(app: &TestApp, family_name: &str, child_name: &str) -> TownData {
    let canteen = setup_repausset(app).await;
    let family = family_with_child(app, &canteen.admin, family_name, child_name).await;
    let reservation_id = book_and_confirm(app, &canteen, &family, &["2017-01-23"]).await;
    pay(app, &family, &[&reservation_id]).await;
    let (payment_id,): (String,) = sqlx::query_as("SELECT id::text FROM payments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    TownData {
        canteen,
        family,
        family_name: family_name.to_string(),
        child_name: child_name.to_string(),
        reservation_id,
        payment_id,
    }
}

/// Towns A and B, each with a restaurant, a family and its paid booking, projected.
async fn two_filled_towns() -> (Vec<TestApp>, TownData, TownData) {
    two_filled_towns_on(&[A, B]).await
}

/// The same, on these two addresses.
async fn two_filled_towns_on(addresses: &[&str; 2]) -> (Vec<TestApp>, TownData, TownData) {
    let towns = spawn_towns(addresses).await;
    let a_data = fill(&towns[0], "ALBERTINI", "Anouk").await;
    let b_data = fill(&towns[1], "BERNARDI", "Basile").await;
    all_fresh(&towns[0]).await;
    all_fresh(&towns[1]).await;
    (towns, a_data, b_data)
}

fn plain_client() -> reqwest::Client {
    no_redirect_client()
}

async fn page_text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn each_town_is_served_on_its_host_and_an_unknown_host_on_none() {
    let towns = spawn_towns(&[A, B]).await;
    let (a, b) = (&towns[0], &towns[1]);

    // Each login page says whose portal it is.
    for (app, own, other) in [
        (a, "Commune de a", "Commune de b"),
        (b, "Commune de b", "Commune de a"),
    ] {
        let page = app
            .raw()
            .await
            .get(format!("{}/connexion", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains(own), "{page}");
        assert!(!page.contains(other), "{page}");
    }

    // Each town's administrator is its own: the same login, another account.
    let a_admin = a.token("admin", "admin-password").await;
    let b_admin = b.token("admin", "admin-password").await;
    assert_ne!(a_admin, b_admin);
    // A session of one town is unknown to the other.
    b.get("/api/v1/admin/mail", &a_admin)
        .await
        .assert_problem(401, "unauthorized");
    b.get("/api/v1/admin/mail", &b_admin)
        .await
        .assert_status(200);

    // An unknown host: the probes and the contract answer, the list of towns leads somewhere,
    // and nothing of a town is served.
    let base = format!("http://127.0.0.1:{}", a.port());
    let client = plain_client();
    for path in ["/health", "/api/v1/openapi.json"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let list = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    for (host, name) in [(A, "Commune de a"), (B, "Commune de b")] {
        assert!(list.contains(name), "{list}");
        assert!(
            list.contains(&format!("http://{host}:{}/connexion", a.port())),
            "{list}"
        );
    }
    let api = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "admin", "password": "admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(
        api.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let page = client
        .get(format!("{base}/connexion"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
}

/// Every route of the route table, for every role of one town, with the other town's ids: the
/// answer is the one an id that exists nowhere gets (never a success, never a refusal that
/// tells the id exists), and no answer carries the other town's names.
#[tokio::test]
async fn another_towns_ids_are_unknown_on_every_route_for_every_role() {
    let (towns, a_data, b_data) = two_filled_towns().await;
    each_route_refuses_the_other_towns_ids(&towns[1], &a_data, &b_data).await;
}

/// The same matrix where one host serves both towns, each under its path prefix: the prefix
/// picks the town as the host name does, and nothing else crosses.
#[tokio::test]
async fn another_towns_ids_are_unknown_on_every_route_under_a_shared_host() {
    let (towns, a_data, b_data) =
        two_filled_towns_on(&["portail.localhost/a", "portail.localhost/b"]).await;
    assert!(towns[1].address.ends_with("/b"), "{}", towns[1].address);
    each_route_refuses_the_other_towns_ids(&towns[1], &a_data, &b_data).await;
}

async fn each_route_refuses_the_other_towns_ids(b: &TestApp, a_data: &TownData, b_data: &TownData) {
    let mut callers: Vec<(&str, String)> = vec![("family", b_data.family.token.clone())];
    for role in [
        Role::Admin,
        Role::Kitchen,
        Role::Finance,
        Role::Auditor,
        Role::Desk,
    ] {
        callers.push((role.as_str(), b.staff_token(role).await));
    }
    // A's ids, and ids that exist in no town, in the places the routes take them.
    let a_ids = ids_of(a_data);
    let nowhere: HashMap<&str, String> = a_ids
        .keys()
        .map(|k| (*k, Uuid::new_v4().to_string()))
        .collect();

    let client = b.raw().await.clone();
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in routes::table() {
        if !route.path.contains("{id}") && !route.path.contains("{child_id}") {
            continue;
        }
        for (who, token) in &callers {
            let mut answers = Vec::new();
            for ids in [&a_ids, &nowhere] {
                let path = with_ids(route.path, ids);
                let mut request = client
                    .request(route.method.clone(), format!("{}{path}", b.address))
                    .bearer_auth(token)
                    .header("cookie", format!("{SESSION_COOKIE}={token}"));
                if route.method != Method::GET {
                    request = request.json(&json!({}));
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if body.contains(&a_data.family_name) || body.contains(&a_data.child_name) {
                    failures.push(format!(
                        "{} {path} as {who}: the answer names town A's family",
                        route.method
                    ));
                }
                answers.push(status);
            }
            checked += 1;
            let (with_a, with_nothing) = (answers[0], answers[1]);
            if with_a != with_nothing || (200..300).contains(&with_a) {
                failures.push(format!(
                    "{} {} as {who}: town A's ids → {with_a}, ids of no town → {with_nothing}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} route × role pairs checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // And the lists and exports of town B show nothing of town A.
    let mut listed = 0;
    for route in routes::table() {
        if route.method != Method::GET || route.path.contains('{') {
            continue;
        }
        for (who, token) in &callers {
            let response = client
                .get(format!("{}{}", b.address, route.path))
                .bearer_auth(token)
                .header("cookie", format!("{SESSION_COOKIE}={token}"))
                .send()
                .await
                .unwrap();
            let body = response.text().await.unwrap_or_default();
            assert!(
                !body.contains(&a_data.family_name) && !body.contains(&a_data.child_name),
                "GET {} as {who} names town A's family",
                route.path
            );
            listed += 1;
        }
    }
    assert!(listed > 50, "only {listed} lists checked");
    // Town B's own family is there, as a control that the answers were read at all.
    let family = b
        .get("/api/v1/family", &b_data.family.token)
        .await
        .assert_status(200)
        .to_string();
    assert!(family.contains(&b_data.child_name), "{family}");
}

fn ids_of(data: &TownData) -> HashMap<&'static str, String> {
    HashMap::from([
        ("family", data.family.id.clone()),
        ("child", data.family.child_id.clone()),
        ("period", data.canteen.period_id.clone()),
        ("restaurant", data.canteen.restaurant_id.clone()),
        ("reservation", data.reservation_id.clone()),
        ("payment", data.payment_id.clone()),
    ])
}

/// The route's path with the ids it takes, chosen by what the path is about.
fn with_ids(path: &str, ids: &HashMap<&str, String>) -> String {
    let id = if path.contains("famil") {
        &ids["family"]
    } else if path.contains("period") || path.contains("/periodes/") {
        &ids["period"]
    } else if path.contains("restaurant") || path.contains("/cuisine/") {
        &ids["restaurant"]
    } else if path.contains("payment") || path.contains("/paiements/") {
        &ids["payment"]
    } else {
        &ids["reservation"]
    };
    path.replace("{child_id}", &ids["child"])
        .replace("{id}", id)
        .replace("{document}", "payments")
        .replace("{month}", "2017-01")
        .replace("{date}", "2017-01-23")
}

#[tokio::test]
async fn the_database_keeps_a_town_to_its_own_rows() {
    let (towns, _, _) = two_filled_towns().await;
    let (a, b) = (&towns[0], &towns[1]);

    // A query with no filter at all reads its own town's rows only.
    for (app, own) in [(a, "ALBERTINI"), (b, "BERNARDI")] {
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM families")
            .fetch_all(&app.pool)
            .await
            .unwrap();
        assert_eq!(names, vec![(own.to_string(),)]);
        let (views,): (i64,) = sqlx::query_as("SELECT count(*) FROM reservation_view")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(views, 1);
    }

    // Naming the other town's table is refused by PostgreSQL, as is the registry of towns.
    let (a_schema,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(&a.pool)
        .await
        .unwrap();
    assert!(a_schema.starts_with("town_a"), "{a_schema}");
    for sql in [
        format!("SELECT count(*) FROM {a_schema}.families"),
        format!("SELECT count(*) FROM {a_schema}.events"),
        "SELECT count(*) FROM public.towns".to_string(),
    ] {
        let refused = sqlx::query(&sql).fetch_one(&b.pool).await.unwrap_err();
        assert!(
            refused.to_string().contains("permission denied"),
            "{sql}: {refused}"
        );
    }

    // Every table of the service is in each town's schema; the registry alone is shared.
    let tables = |schema: String| async move {
        let admin = cantine::db::connect(&a.database_url, 1).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .bind(schema)
        .fetch_all(&admin)
        .await
        .unwrap();
        admin.close().await;
        rows.into_iter().map(|(t,)| t).collect::<Vec<_>>()
    };
    let shared = tables("public".into()).await;
    let own = tables(a_schema.clone()).await;
    let only_shared: Vec<&String> = shared.iter().filter(|t| !own.contains(t)).collect();
    assert_eq!(
        only_shared,
        vec!["towns"],
        "tables outside the towns' schemas"
    );
    assert!(own.contains(&"events".to_string()) && own.contains(&"families".to_string()));
}

#[tokio::test]
async fn each_town_numbers_on_its_own_and_a_rebuild_and_an_audit_keep_every_number() {
    let (towns, a_data, b_data) = two_filled_towns().await;
    let (a, b) = (&towns[0], &towns[1]);
    // Each town's first reservation and first invoice: the first of its own sequences.
    let (a_number, b_number) = (number(a, &a_data).await, number(b, &b_data).await);
    assert_eq!(a_number, "00001");
    assert_eq!(b_number, "00001");
    let (a_invoices, b_invoices) = (invoices(a, &a_data).await, invoices(b, &b_data).await);
    assert_eq!(a_invoices.len(), 1);
    assert_eq!(a_invoices, b_invoices);

    // A rebuild of every projection and an audit of each town: nothing differs, nothing moves.
    for app in [a, b] {
        app.stop_background_cleanly().await;
        for projection in projections::all() {
            projections::rebuild::rebuild(&app.pool, projection)
                .await
                .unwrap();
        }
        let verification = projections::rebuild::verify(&app.pool, &projections::all())
            .await
            .unwrap();
        let differing: i64 = verification
            .differences
            .iter()
            .map(|d| d.differing_rows)
            .sum();
        assert_eq!(differing, 0, "{:?}", verification.differences);
        let chain = cantine::db::audit_log::verify_chain(&app.pool)
            .await
            .unwrap();
        assert!(chain.intact());
        assert!(chain.checked > 0);
    }
    assert_eq!(number(a, &a_data).await, a_number);
    assert_eq!(number(b, &b_data).await, b_number);
    assert_eq!(invoices(a, &a_data).await, a_invoices);
}

async fn number(app: &TestApp, data: &TownData) -> String {
    let path = format!("/api/v1/reservations/{}", data.reservation_id);
    app.get(&path, &data.family.token).await.assert_status(200)["number"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn invoices(app: &TestApp, data: &TownData) -> Vec<String> {
    app.get("/api/v1/invoices", &data.family.token)
        .await
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect()
}

/// The platform operator creates towns with its token, on a host that is no town's, and reads
/// nothing of theirs; the town is served at once by the running service, and again after a
/// restart.
#[tokio::test]
async fn the_platform_operator_creates_a_town_served_at_once_and_after_a_restart() {
    let towns = spawn_towns(&[A]).await;
    let a = &towns[0];
    let base = format!("http://127.0.0.1:{}", a.port());
    let client = plain_client();
    let create = |token: &'static str, body: serde_json::Value| {
        let client = client.clone();
        let url = format!("{base}/api/v1/platform/towns");
        async move {
            TestApp::reply(
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let town = json!({"host": "c.localhost", "name": "Commune de c", "address": "2 rue Haute",
                      "admin_login": "maire", "admin_password": "mot-de-passe-c"});
    create("wrong-token", town.clone())
        .await
        .assert_problem(401, "unauthorized");
    // A town's administrator is no platform operator either.
    let a_admin = a.token("admin", "admin-password").await;
    let reply = client
        .post(format!("{base}/api/v1/platform/towns"))
        .bearer_auth(&a_admin)
        .json(&town)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let mut bad = town.clone();
    bad["host"] = json!("pas un hôte");
    create(PLATFORM_TOKEN, bad)
        .await
        .assert_problem(422, "invalid_host");
    let mut short = town.clone();
    short["admin_password"] = json!("court");
    create(PLATFORM_TOKEN, short)
        .await
        .assert_problem(422, "password_too_short");
    let mut taken = town.clone();
    taken["host"] = json!(A);
    create(PLATFORM_TOKEN, taken)
        .await
        .assert_problem(409, "town_exists");
    // Before it exists, c.localhost is an unknown host.
    let on_c = reqwest::Client::builder()
        .resolve("c.localhost", ([127, 0, 0, 1], a.port()).into())
        .build()
        .unwrap();
    let c_base = format!("http://c.localhost:{}", a.port());
    let login = |client: reqwest::Client| {
        let url = format!("{c_base}/api/v1/auth/login");
        async move {
            TestApp::reply(
                client
                    .post(url)
                    .json(&json!({"login": "maire", "password": "mot-de-passe-c"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(login(on_c.clone()).await.status, 404);
    let created = create(PLATFORM_TOKEN, town.clone()).await;
    let created = created.assert_status(201);
    assert_eq!(created["host"], "c.localhost");
    assert_eq!(created["served"], "now");
    // Served at once by the running service: its administrator logs in on its host and is
    // its administrator, not town A's.
    let reply = login(on_c.clone()).await;
    let admin = reply.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mail = on_c
        .get(format!("{c_base}/api/v1/admin/mail"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(mail.status(), 200);
    let page = page_text(&on_c, format!("{c_base}/connexion")).await;
    assert!(page.contains("Commune de c"), "{page}");
    a.get("/api/v1/admin/mail", &a_admin)
        .await
        .assert_status(200);
    a.get("/api/v1/admin/mail", &admin)
        .await
        .assert_problem(401, "unauthorized");
    create(PLATFORM_TOKEN, town)
        .await
        .assert_problem(409, "town_exists");
    // The platform's token opens nothing of a town's.
    a.get("/api/v1/admin/mail", PLATFORM_TOKEN)
        .await
        .assert_problem(401, "unauthorized");
    a.get("/api/v1/platform/towns", PLATFORM_TOKEN)
        .await
        .assert_status(404);

    // The next start serves it, with its administrator and nothing of town A.
    let database_url = a.database_url.clone();
    drop(towns);
    let towns = serve_towns(database_url).await;
    let c = towns
        .iter()
        .find(|t| t.address.starts_with("http://c.localhost:"))
        .expect("the new town is served");
    let admin = c.token("maire", "mot-de-passe-c").await;
    c.get("/api/v1/admin/mail", &admin).await.assert_status(200);
    let page = page_text(c.raw().await, format!("{}/connexion", c.address)).await;
    assert!(page.contains("Commune de c"), "{page}");
    let (families,): (i64,) = sqlx::query_as("SELECT count(*) FROM families")
        .fetch_one(&c.pool)
        .await
        .unwrap();
    assert_eq!(families, 0);
}

/// `cantine town add`, run by the vendor while the service runs, is a process of its own: the
/// running service hears of the town at the registration's commit and serves it without a
/// restart, with its administrator and nothing of town A.
#[tokio::test]
async fn a_town_added_from_the_command_line_is_served_without_a_restart() {
    let towns = spawn_towns(&[A]).await;
    let a = &towns[0];
    let on_d = reqwest::Client::builder()
        .resolve("d.localhost", ([127, 0, 0, 1], a.port()).into())
        .build()
        .unwrap();
    let d_base = format!("http://d.localhost:{}", a.port());
    let login = || {
        let (client, url) = (on_d.clone(), format!("{d_base}/api/v1/auth/login"));
        async move {
            client
                .post(url)
                .json(&json!({"login": "directrice", "password": "mot-de-passe-d"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login().await.status(), 404, "no town on d.localhost yet");

    let added = tokio::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args([
            "town",
            "add",
            "--host",
            "d.localhost",
            "--name",
            "Commune de d",
            "--admin-login",
            "directrice",
            "--admin-password",
            "mot-de-passe-d",
        ])
        .env("DATABASE_URL", &a.database_url)
        .env("CANTINE_DEMO", "0")
        .output()
        .await
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(said.contains("a running service serves it"), "{said}");

    // Served as soon as the running service has opened it: no restart.
    let mut status = 404;
    for _ in 0..100 {
        status = login().await.status().as_u16();
        if status != 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the new town is served within ten seconds");
    let page = page_text(&on_d, format!("{d_base}/connexion")).await;
    assert!(page.contains("Commune de d"), "{page}");
    // Its administrator is its own, and town A's is no login of it.
    let reply = on_d
        .post(format!("{d_base}/api/v1/auth/login"))
        .json(&json!({"login": "admin", "password": "admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let towns_page = page_text(&plain_client(), format!("http://127.0.0.1:{}/", a.port())).await;
    assert!(towns_page.contains("Commune de d"), "{towns_page}");
}

/// A town's log is read in commit-safe order against its own writers only: a transaction of
/// another town (another role, which may not append to this log) does not hold it back, one of
/// its own town does. And each town's projectors wake on their own town's commits, on a channel
/// of their own. With one horizon and one channel for the whole database, twenty towns made
/// each other's projectors wait and poll (`cantine-bench --towns 20`).
#[tokio::test]
async fn another_towns_transaction_does_not_hold_back_a_towns_log() {
    use cantine::projections::projector::{events_channel, safe_head, visible_head};

    let towns = spawn_towns(&[A, B]).await;
    let (a, b) = (&towns[0], &towns[1]);
    let canteen = setup_repausset(a).await;
    let family = family_with_child(a, &canteen.admin, "ALBERTINI", "Anouk").await;
    let book = |day: &'static str| {
        a.post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": [day]}),
        )
    };
    // The safe head as the SQL function computes it, and as the projectors read it: from one
    // reading of the server's transactions shared by every town of the process, which must
    // leave out town B's as the function does. Each is compared with the visible head.
    let heads = || async {
        let mut conn = a.pool.acquire().await.unwrap();
        let safe = safe_head(&mut conn).await.unwrap();
        let visible = visible_head(&mut conn).await.unwrap();
        let shared = a
            .state
            .progress
            .heads(&a.pool, std::time::Instant::now())
            .await
            .unwrap();
        assert_eq!(shared.visible, visible);
        (safe.min(shared.safe), visible, safe.max(shared.safe))
    };

    // Town B's transaction, holding a transaction id older than town A's booking.
    let mut b_open = b.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *b_open)
        .await
        .unwrap();
    book("2017-01-23").await.assert_status(201);
    eventually(
        "town A's booking safe to read while town B's transaction is open",
        || async {
            let (lowest_safe, visible, _) = heads().await;
            lowest_safe == visible
        },
    )
    .await;

    // Town A's own open transaction may still append: what commits after it waits for it.
    let mut a_open = a.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *a_open)
        .await
        .unwrap();
    book("2017-01-24").await.assert_status(201);
    let (_, visible, highest_safe) = heads().await;
    assert!(
        highest_safe < visible,
        "a running transaction of town A must hold its log back"
    );
    a_open.rollback().await.unwrap();
    eventually(
        "town A's log safe again once its transaction ended",
        || async {
            let (lowest_safe, visible, _) = heads().await;
            lowest_safe == visible
        },
    )
    .await;
    b_open.rollback().await.unwrap();

    // Each town's log has its own wake-up channel.
    let mut a_conn = a.pool.acquire().await.unwrap();
    let mut b_conn = b.pool.acquire().await.unwrap();
    let (a_channel, b_channel) = (
        events_channel(&mut a_conn).await.unwrap(),
        events_channel(&mut b_conn).await.unwrap(),
    );
    assert_ne!(a_channel, b_channel);
    let mut listener = sqlx::postgres::PgListener::connect_with(&b.pool)
        .await
        .unwrap();
    listener.listen(&b_channel).await.unwrap();
    book("2017-01-26").await.assert_status(201);
    let woken = tokio::time::timeout(std::time::Duration::from_millis(500), listener.recv()).await;
    assert!(woken.is_err(), "town A's commit woke town B's projectors");
    listener.listen(&a_channel).await.unwrap();
    book("2017-01-27").await.assert_status(201);
    let notification = listener.recv().await.unwrap();
    assert_eq!(notification.channel(), a_channel);
}

/// Where one host serves two towns, each under its path prefix, a browser walks each town's
/// portal as if it had the host to itself: the login page is the town's, every link, form and
/// redirect stays under its prefix, and its session cookie is scoped to that prefix and unknown
/// to the other town.
#[tokio::test]
async fn two_towns_share_a_host_each_under_its_path_prefix() {
    let (towns, a_data, b_data) =
        two_filled_towns_on(&["portail.localhost/a", "portail.localhost/b"]).await;
    let a = &towns[0];
    let port = a.port();
    let host = format!("http://portail.localhost:{port}");
    let browser = reqwest::Client::builder()
        .resolve("portail.localhost", ([127, 0, 0, 1], port).into())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String, cookie: String| {
        let (browser, url) = (browser.clone(), format!("{host}{path}"));
        async move {
            browser
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    // Every path a page hands to the browser stays under the town's prefix.
    let stays_under = |page: &str, prefix: &str| {
        for attribute in ["href=\"/", "action=\"/", "src=\"/"] {
            for (at, _) in page.match_indices(attribute) {
                let path = &page[at + attribute.len() - 1..];
                assert!(
                    path.starts_with(&format!("{prefix}/")),
                    "a path out of {prefix}: {}",
                    &path[..path.len().min(60)]
                );
            }
        }
    };

    // The login pages: each town's own.
    for (prefix, own, other) in [
        ("/a", "Commune de a", "Commune de b"),
        ("/b", "Commune de b", "Commune de a"),
    ] {
        let page = get(format!("{prefix}/connexion"), String::new()).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains(own) && !page.contains(other), "{page}");
        assert!(
            page.contains(&format!("href=\"{prefix}/portail.css\"")),
            "{page}"
        );
        stays_under(&page, prefix);
    }
    let css = get("/a/portail.css".into(), String::new()).await;
    assert_eq!(css.status(), 200);

    // A family of town A logs in through the form, under /a.
    let login_page = get("/a/connexion".into(), String::new()).await;
    let form_cookie = login_page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let form_cookie = form_cookie.split(';').next().unwrap().to_string();
    let csrf = form_cookie.split_once('=').unwrap().1.to_string();
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE role = 'family'")
        .fetch_one(&a.pool)
        .await
        .unwrap();
    let logged = browser
        .post(format!("{host}/a/connexion"))
        .header("cookie", &form_cookie)
        .form(&[
            ("identifiant", login.as_str()),
            ("mot_de_passe", "mot-de-passe"),
            ("csrf", csrf.as_str()),
            ("suivant", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logged.status(), 303);
    let home = logged.headers()["location"].to_str().unwrap().to_string();
    assert!(home.starts_with("/a/"), "{home}");
    let session = logged
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a session cookie");
    assert!(
        session.contains("Path=/a;") || session.ends_with("Path=/a"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_string();

    let page = get(home.clone(), session.clone()).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&a_data.child_name), "{page}");
    assert!(!page.contains(&b_data.child_name), "{page}");
    stays_under(&page, "/a");

    // Town B knows nothing of that session: its portal answers with its own login form, and
    // the cookies it sets (the session's expiry) are scoped to /b.
    let inner = home.strip_prefix("/a").unwrap();
    let refused = get(format!("/b{inner}"), session.clone()).await;
    assert_eq!(refused.status(), 401);
    for cookie in refused.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("Path=/b"), "{cookie}");
    }
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("Commune de b") && !refused.contains(&a_data.child_name));
    assert!(refused.contains("action=\"/b/connexion\""), "{refused}");
    stays_under(&refused, "/b");

    // No town under /c; the host's root lists both portals.
    assert_eq!(
        get("/c/connexion".into(), String::new()).await.status(),
        404
    );
    let list = get("/".into(), String::new()).await.text().await.unwrap();
    for prefix in ["a", "b"] {
        assert!(
            list.contains(&format!("{host}/{prefix}/connexion")),
            "{list}"
        );
    }

    // A prefix cannot shadow what every host answers, nor a town take the whole shared host.
    let registry = cantine::db::connect(&a.database_url, 1).await.unwrap();
    let town = |address: &str| cantine::app::towns::NewTown {
        host: address.into(),
        name: "Commune de trop".into(),
        address: String::new(),
        admin_login: "admin".into(),
        admin_password: "admin-password".into(),
    };
    for (address, code) in [
        ("portail.localhost/api", "invalid_host"),
        ("portail.localhost/a/b", "invalid_host"),
        ("portail.localhost", "town_exists"),
        ("portail.localhost/a", "town_exists"),
    ] {
        let refused = cantine::app::towns::add(&registry, &town(address))
            .await
            .expect_err(address);
        assert!(
            format!("{refused:?}").contains(code),
            "{address}: {refused:?}"
        );
    }
    registry.close().await;
}
