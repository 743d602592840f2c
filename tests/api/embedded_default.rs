//! The README's first command on a machine with PostgreSQL binaries and no server running:
//! `cantine serve` starts its own cluster, loads the demo, prints the logins, answers /health,
//! and stops its cluster on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn cantine_serve_starts_on_its_own_postgres_with_demo_data() {
    let data =
        std::env::temp_dir().join(format!("cantine-readme-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let started = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_cantine"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("CANTINE_DATA", &data)
        .env("CANTINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run cantine serve");
    let stdout = server.stdout.take().unwrap();
    let printed = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = false;
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(response) = client.get(format!("{base}/health")).send().await {
            if response.status() == 200 {
                healthy = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healthy, "/health did not answer within a minute");

    // The demo is the two towns of the guides, each on its host name with its own data.
    let towns = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(towns.status(), 200);
    let towns = towns.text().await.unwrap();
    assert!(
        towns.contains(&format!("http://camargue.localhost:{port}/connexion")),
        "{towns}"
    );
    assert!(
        towns.contains(&format!("http://carcassonne.localhost:{port}/connexion")),
        "{towns}"
    );
    let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let client = reqwest::Client::builder()
        .resolve("camargue.localhost", address)
        .resolve("carcassonne.localhost", address)
        .build()
        .unwrap();
    let establishments = |host: &'static str, login: &'static str, password: &'static str| {
        let client = client.clone();
        async move {
            let town = format!("http://{host}:{port}");
            let login = client
                .post(format!("{town}/api/v1/auth/login"))
                .json(&serde_json::json!({"login": login, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(login.status(), 200, "{host}");
            let token = login.json::<serde_json::Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string();
            client
                .get(format!("{town}/api/v1/establishments"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let camargue = establishments(
        "camargue.localhost",
        "famille.dupont@example.fr",
        "cantine-dupont",
    )
    .await;
    let names: Vec<&str> = camargue
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"Restaurant Scolaire Le Repausset"));
    assert!(camargue
        .iter()
        .all(|e| e["periods"][0]["unit_price"] == "4.15"));
    let carcassonne = establishments(
        "carcassonne.localhost",
        "famille.garcia@example.fr",
        "cantine-garcia",
    )
    .await;
    assert_eq!(carcassonne.len(), 1, "{carcassonne:?}");
    assert_eq!(carcassonne[0]["name"], "Restaurant scolaire Jean Jaurès");
    assert_eq!(carcassonne[0]["periods"][0]["unit_price"], "4.97");

    // Ctrl-C: the service stops, and so does its cluster.
    kill(Pid::from_raw(server.id() as i32), Signal::SIGINT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "cantine serve did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let output = printed.join().unwrap();
    assert!(output.contains(&base), "{output}");
    assert!(output.contains("famille.dupont@example.fr"), "{output}");
    assert!(output.contains("cantine-admin"), "{output}");
    assert!(output.contains("famille.garcia@example.fr"), "{output}");
    assert!(output.contains("carcassonne-admin"), "{output}");
    assert!(
        !data.join("pg").join("postmaster.pid").exists(),
        "the private cluster is still running"
    );
    let _ = std::fs::remove_dir_all(&data);
}
