//! `sync --parallel N` and `--reconcile-every`: a parallel full load gives the mirror a
//! sequential one gives, row for row; a run reconciles when the last reconciliation is
//! older than `--reconcile-every` (`0s`: every run), and only then removes the rows of
//! products the server no longer has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::Mock;
use rusqlite::{Connection, types::Value as Sql};
use shipstream_inventory_mock::{Dataset, MockConfig};

/// Every row of `levels`, every column, in `product_id` order.
fn rows(db: &Path) -> Vec<Vec<Sql>> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT * FROM levels ORDER BY product_id")
        .unwrap();
    let n = st.column_count();
    st.query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn sync(mock: &Mock, db: &Path, extra: &[&str]) -> String {
    let out = mock
        .cli()
        .args(["sync", "--db", db.to_str().unwrap(), "--rate-limit", "0"])
        .args(extra)
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

#[test]
fn a_parallel_full_load_is_the_sequential_one_row_for_row() {
    let mock = Mock::start(MockConfig::default().dataset(Dataset::generate(2500, 9)));
    let dir = tempfile::tempdir().unwrap();
    let (seq, par) = (dir.path().join("seq.sqlite"), dir.path().join("par.sqlite"));
    sync(&mock, &seq, &["--page-size", "100"]);
    let err = sync(&mock, &par, &["--page-size", "100", "--parallel", "4"]);
    assert!(err.contains("full load: 2500 upserted"), "{err}");
    let want = rows(&seq);
    assert_eq!(want.len(), 2500);
    assert_eq!(rows(&par), want);
    // A parallel reconciliation of an unchanged server changes nothing.
    let err = sync(&mock, &par, &["--reconcile", "--parallel", "4"]);
    assert!(
        err.contains("incremental + reconciliation: 0 upserted, 0 deleted"),
        "{err}"
    );
    assert_eq!(rows(&par), want);
}

#[test]
fn reconcile_every_decides_which_runs_remove_deleted_products() {
    let mock = Mock::start(MockConfig::default().dataset(Dataset::generate(300, 9)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    sync(&mock, &db, &[]);
    let want = rows(&db);
    // A row the server does not have (a product deleted since).
    let stale = want.last().map(|r| match r[0] {
        Sql::Integer(id) => id + 1,
        _ => panic!("{r:?}"),
    });
    Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO levels (product_id) VALUES (?1)", [stale])
        .unwrap();
    // The last reconciliation (the full load) is younger than the default 24 h and than
    // 1 h: no reconciliation, the row stays.
    for extra in [&[][..], &["--reconcile-every", "1h"]] {
        let err = sync(&mock, &db, extra);
        assert!(err.starts_with("incremental: "), "{extra:?}: {err}");
        assert_eq!(rows(&db).len(), want.len() + 1, "{extra:?}");
    }
    // `0s`: this run reconciles, and the row goes.
    let err = sync(&mock, &db, &["--reconcile-every", "0s"]);
    assert!(
        err.starts_with("incremental + reconciliation: 0 upserted, 1 deleted"),
        "{err}"
    );
    assert_eq!(rows(&db), want);
}
