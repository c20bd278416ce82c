//! `sync --db postgres://…` over TLS, against a real server started with `ssl=on`, a
//! certificate for `localhost` from a test CA made here, and a `pg_hba.conf` that refuses
//! TCP connections without TLS: each `sslmode` means what libpq says, a certificate from
//! another CA is refused, and a refused run writes nothing (the mirror's dump is the same
//! before and after it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cli;
use common::pg::{Postgres, TestCa};

/// A URL, the environment to run it with, the exit code wanted and what stderr says.
type Refused<'a> = (String, Vec<(&'a str, &'a str)>, i32, &'a str);

/// Every row of both tables, as JSON text: what a refused run must leave as it was.
fn dump(pg: &Postgres, url: &str) -> Vec<String> {
    pg.with(url, async |c| {
        let mut rows = Vec::new();
        for table in ["levels", "sync_state"] {
            let exists: bool = c
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
                .await
                .unwrap()
                .get(0);
            if !exists {
                continue;
            }
            for r in c
                .query(
                    &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY 1"),
                    &[],
                )
                .await
                .unwrap()
            {
                rows.push(r.get::<_, String>(0));
            }
        }
        rows
    })
}

/// `sync --demo` against `url`; its exit code and stderr. `HOME` is an empty folder, so
/// no `~/.postgresql/root.crt` of this machine's changes what a mode means.
fn sync(url: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = cli();
    cmd.args(["sync", "--demo", "--db", url])
        .env("HOME", home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn each_sslmode_means_what_libpq_says_and_a_refused_run_writes_nothing() {
    let (pg, ca) = Postgres::start_tls();
    let other = TestCa::new(ca.root.parent().unwrap(), "other");
    let port = pg.port();
    let root = ca.root.to_str().unwrap();
    let wrong = other.root.to_str().unwrap();
    pg.database("mirror");
    // By the name on the certificate (resolved to 127.0.0.1 by hostaddr), or by address.
    let by_name = |params: &str| {
        format!(
            "postgres://postgres:pw-not-shown@localhost:{port}/mirror?hostaddr=127.0.0.1&{params}"
        )
    };
    let by_address =
        |params: &str| format!("postgres://postgres:pw-not-shown@127.0.0.1:{port}/mirror?{params}");

    // verify-full by the certificate's name: the README's managed-database form.
    let (code, err) = sync(
        &by_name(&format!("sslmode=verify-full&sslrootcert={root}")),
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("full load: 250 upserted, 0 deleted"), "{err}");
    assert!(!err.contains("pw-not-shown"), "{err}");
    let loaded = dump(&pg, &pg.url("mirror"));
    assert!(loaded.len() > 250, "{} rows", loaded.len());

    // Refused: each leaves the mirror exactly as it was, exits 1 (2 for a bad setting)
    // and says what to change, without the password.
    let refused: [Refused<'_>; 7] = [
        // verify-full checks the host name: 127.0.0.1 is not on the certificate.
        (
            by_address(&format!("sslmode=verify-full&sslrootcert={root}")),
            vec![],
            1,
            "does not name the host 127.0.0.1",
        ),
        // A certificate from another CA, whatever mode verifies.
        (
            by_name(&format!("sslmode=verify-full&sslrootcert={wrong}")),
            vec![],
            1,
            "not signed by a trusted root",
        ),
        (
            by_address(&format!("sslmode=verify-ca&sslrootcert={wrong}")),
            vec![],
            1,
            "not signed by a trusted root",
        ),
        // require verifies the chain when given a root, as libpq does.
        (
            by_address(&format!("sslmode=require&sslrootcert={wrong}")),
            vec![],
            1,
            "not signed by a trusted root",
        ),
        // disable: this server refuses TCP without TLS.
        (
            by_address("sslmode=disable"),
            vec![],
            1,
            "refuses connections without TLS",
        ),
        // The environment, as libpq's: PGSSLMODE when the URL does not say.
        (
            by_address(""),
            vec![("PGSSLMODE", "disable")],
            1,
            "refuses connections without TLS",
        ),
        // verify-full with no root to verify with is a usage error.
        (
            by_name("sslmode=verify-full"),
            vec![],
            2,
            "needs a root certificate",
        ),
    ];
    for (url, env, want, says) in &refused {
        let (code, err) = sync(url, env);
        assert_eq!(code, Some(*want), "{url} {env:?}: {err}");
        assert!(err.contains(says), "{url} {env:?}: {err}");
        assert!(!err.contains("pw-not-shown"), "{err}");
        assert_eq!(dump(&pg, &pg.url("mirror")), loaded, "{url} {env:?} wrote");
    }

    // Accepted: verify-ca checks the chain only (the address is not on the certificate);
    // require without a root, prefer (the default) and allow encrypt without verifying;
    // the URL wins over the environment; PGSSLROOTCERT gives the root.
    let accepted: [(String, Vec<(&str, &str)>); 7] = [
        (
            by_address(&format!("sslmode=verify-ca&sslrootcert={root}")),
            vec![],
        ),
        (by_address("sslmode=require"), vec![]),
        (by_address("sslmode=prefer"), vec![]),
        (by_address(""), vec![]),
        (by_address("sslmode=allow"), vec![]),
        (
            by_address("sslmode=require"),
            vec![("PGSSLMODE", "disable")],
        ),
        (
            by_name("sslmode=verify-full"),
            vec![("PGSSLROOTCERT", root)],
        ),
    ];
    for (url, env) in &accepted {
        let (code, err) = sync(url, env);
        assert_eq!(code, Some(0), "{url} {env:?}: {err}");
        assert!(err.contains("incremental"), "{url} {env:?}: {err}");
    }
}
