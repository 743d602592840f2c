//! The one-way rule, checked on the source: `web` → `app` → {`domain`, `store`, `db`,
//! `projections`}. A small scan of `src/` is enough: each rule names the folders it governs and
//! the code it must not contain there. Comments and doc comments are left out of the scan, so a
//! comment may still name what it explains.

use std::path::{Path, PathBuf};

/// One rule: in files under `folders` (except `exempt`), no code line may contain `forbidden`.
struct Rule {
    why: &'static str,
    folders: &'static [&'static str],
    exempt: &'static [&'static str],
    forbidden: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        why: "HTTP lives in src/web: nothing else imports axum, tower or maud",
        folders: &["src"],
        exempt: &["src/web/", "src/main.rs"],
        forbidden: &[
            "axum::",
            "tower::",
            "tower_http::",
            "maud::",
            "use axum",
            "use maud",
        ],
    },
    Rule {
        why: "no page calls an API handler",
        folders: &["src/web/pages", "src/web/portal", "src/web/backoffice"],
        exempt: &[],
        forbidden: &["web::api", "super::api", "crate::web::api", "api::"],
    },
    Rule {
        why: "no API module imports a page module",
        folders: &["src/web/api"],
        exempt: &[],
        forbidden: &["pages::", "portal::", "backoffice::"],
    },
    Rule {
        why: "the application layer does not reach back up into the web",
        folders: &["src/app"],
        exempt: &[],
        forbidden: &[
            "crate::web",
            "serde_json::json!",
            "StatusCode",
            "IntoResponse",
        ],
    },
    Rule {
        why: "the domain decides on what it is handed: no SQL, no store, no application, no web",
        folders: &["src/domain"],
        exempt: &[],
        forbidden: &[
            "sqlx",
            "crate::app",
            "crate::web",
            "crate::store",
            "crate::db",
            "crate::projections",
        ],
    },
    Rule {
        why: "store, reads and projections sit below the application and the web",
        folders: &["src/store", "src/db", "src/projections"],
        exempt: &[],
        forbidden: &["crate::app", "crate::web"],
    },
    Rule {
        why: "SQL lives in db/, store/ or projections/, not in the web or the use cases",
        folders: &["src/web", "src/app"],
        exempt: &[],
        forbidden: &[
            "sqlx::query",
            "query_as(",
            "query_as::<",
            "query_scalar(",
            "query_scalar::<",
            "QueryBuilder",
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
        ],
    },
    Rule {
        why: "a reservation status is spelled once, in the domain (compare the enum elsewhere)",
        folders: &["src/app", "src/web", "src/store"],
        exempt: &[],
        forbidden: &[
            "\"awaiting_payment\"",
            "\"requested\"",
            "\"confirmed\"",
            "\"expired\"",
        ],
    },
];

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {dir:?}: {e}"));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments: line comments (`//`, `///`, `//!`) are cut where
/// they start, unless the `//` sits inside a string literal on that line (a URL, say).
fn code_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source.lines().enumerate().filter_map(|(i, line)| {
        let code = strip_line_comment(line);
        (!code.trim().is_empty()).then_some((i + 1, code))
    })
}

fn strip_line_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            return &line[..i];
        }
    }
    line
}

/// Every breach of `rule` in `files` (paths relative to the crate root), as "path:line: text".
fn breaches(rule: &Rule, files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, source) in files {
        let governed = rule
            .folders
            .iter()
            .any(|f| path == f || path.starts_with(&format!("{f}/")));
        let exempt = rule.exempt.iter().any(|e| path.starts_with(e));
        if !governed || exempt {
            continue;
        }
        for (n, code) in code_lines(source) {
            if let Some(word) = rule.forbidden.iter().find(|w| code.contains(*w)) {
                found.push(format!("{path}:{n}: `{word}` in `{}`", code.trim()));
            }
        }
    }
    found
}

fn sources() -> Vec<(String, String)> {
    let root = crate_root();
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    assert!(paths.len() > 50, "the scan found too few files: {paths:?}");
    paths
        .into_iter()
        .map(|p| {
            let relative = p
                .strip_prefix(&root)
                .expect("under the crate root")
                .to_string_lossy()
                .replace('\\', "/");
            let source = std::fs::read_to_string(&p).expect("a readable source file");
            (relative, source)
        })
        .collect()
}

#[test]
fn arrows_go_one_way() {
    let files = sources();
    let mut report = Vec::new();
    for rule in RULES {
        let found = breaches(rule, &files);
        if !found.is_empty() {
            report.push(format!("{}:\n  {}", rule.why, found.join("\n  ")));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

#[test]
fn the_layers_exist_where_the_readme_says() {
    let root = crate_root();
    for dir in [
        "src/domain",
        "src/app",
        "src/app/jobs",
        "src/app/queries",
        "src/store",
        "src/db",
        "src/projections",
        "src/web/api",
        "src/web/pages",
        "src/web/portal",
        "src/web/backoffice",
        "src/bin/cantine-bench",
    ] {
        assert!(root.join(dir).is_dir(), "{dir} is missing");
    }
}

/// The scan itself can fail: a page that calls an API handler, or an application module that
/// imports axum, is caught, while the same words in a comment or a string are not code.
#[test]
fn the_scan_catches_a_breach_and_ignores_comments() {
    let files = vec![
        (
            "src/web/portal/bad.rs".to_string(),
            "use crate::web::api::reservations;\n".to_string(),
        ),
        (
            "src/app/bad.rs".to_string(),
            "// axum:: in a comment is fine\nuse axum::Json;\n".to_string(),
        ),
        (
            "src/web/portal/good.rs".to_string(),
            "/// See `api::reservations` for the contract.\nlet url = \"https://example.org\"; // api::\n"
                .to_string(),
        ),
    ];
    let page_rule = RULES
        .iter()
        .find(|r| r.why == "no page calls an API handler")
        .unwrap();
    let http_rule = &RULES[0];
    assert_eq!(
        breaches(page_rule, &files),
        vec!["src/web/portal/bad.rs:1: `web::api` in `use crate::web::api::reservations;`"]
    );
    assert_eq!(
        breaches(http_rule, &files),
        vec!["src/app/bad.rs:2: `axum::` in `use axum::Json;`"]
    );
}
