//! A real PostgreSQL server for the tests of `sync --db postgres://…`, started by the test
//! itself: `initdb` into a temporary directory, `pg_ctl start` on a free port of
//! 127.0.0.1 (and a socket in that directory), stopped when the value drops. With
//! [`Postgres::start_tls`], `ssl=on` with a certificate from a test CA made here (rcgen)
//! and a `pg_hba.conf` that refuses TCP connections without TLS.
//!
//! The server's programs are found by [`super::pg_bin`] (`cargo xtask ci` installs
//! Debian's `postgresql` package when it finds none). PostgreSQL refuses to run as root:
//! as root, the programs run as the `postgres` user the package creates.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running server, stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    rt: tokio::runtime::Runtime,
}

/// A test certificate authority: its certificate (PEM) in a file, and what it signed.
pub struct TestCa {
    /// The CA's certificate, for `sslrootcert`.
    pub root: PathBuf,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    /// The folder it made for itself, if it did (removed on drop).
    dir: Option<tempfile::TempDir>,
}

impl TestCa {
    /// A new CA, its certificate written to `dir/NAME.pem`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let issuer =
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let root = dir.join(format!("{name}.pem"));
        std::fs::write(&root, issuer.pem()).unwrap();
        TestCa {
            root,
            issuer,
            dir: None,
        }
    }

    /// A server certificate for these host names, and its key (both PEM).
    pub fn server_cert(&self, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0].clone());
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// Starts a server of its own (about a second).
    pub fn start() -> Postgres {
        Postgres::init(None)
    }

    /// Starts a server that speaks TLS only (on TCP; its socket stays plain for the
    /// tests' own queries), with a certificate for `localhost` signed by a new test CA.
    pub fn start_tls() -> (Postgres, TestCa) {
        let ca_dir = tempfile::Builder::new()
            .prefix("shipstream-ca-")
            .tempdir()
            .unwrap();
        let mut ca = TestCa::new(ca_dir.path(), "root");
        ca.dir = Some(ca_dir);
        let pg = Postgres::init(Some(ca.server_cert(&["localhost"])));
        (pg, ca)
    }

    fn init(tls: Option<(String, String)>) -> Postgres {
        let bin = super::pg_bin::postgres_bin().unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server programs (initdb, pg_ctl) found: install Debian's \
                 `postgresql` package (`cargo xtask ci` does), or set SHIPSTREAM_PG_BIN to \
                 their directory"
            )
        });
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("shipstream-pg-")
            .tempdir()
            .unwrap();
        if as_postgres {
            // The server's user must own its data directory and reach the socket's.
            let status = Command::new("chown")
                .args(["postgres:"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", dir.path().display());
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            as_postgres,
            rt,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        if let Some((cert, key)) = tls {
            pg.write_as_server(&data.join("server.crt"), &cert);
            pg.write_as_server(&data.join("server.key"), &key);
            // TCP only with TLS: no `host` or `hostnossl` line.
            pg.write_as_server(
                &data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            );
            let conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
            pg.write_as_server(
                &data.join("postgresql.conf"),
                &format!(
                    "{conf}\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                ),
            );
        }
        // A port taken between the probe and the start fails `pg_ctl`: try another.
        for attempt in 0.. {
            pg.port = free_port();
            if pg.try_start() {
                break;
            }
            let log = std::fs::read_to_string(pg.dir.path().join("server.log")).unwrap_or_default();
            assert!(attempt < 3, "pg_ctl start failed:\n{log}");
        }
        pg
    }

    /// Writes a file of the server's, owned by its user and private to it (the key must be).
    fn write_as_server(&self, path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if self.as_postgres {
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(path)
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", path.display());
        }
    }

    fn try_start(&self) -> bool {
        let data = self.data();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c \
             synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.try_run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server: `fast` (clients' sessions ended, a clean shutdown) or `immediate`
    /// (every process killed; recovery on the next start).
    pub fn stop(&self, mode: &str) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
    }

    /// Starts the stopped server again, on the same port.
    pub fn restart(&self) {
        assert!(self.try_start(), "pg_ctl start (again) failed");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn try_run(&self, program: &str, args: &[&str]) -> bool {
        let out = self.command(program).args(args).output().unwrap();
        if !out.status.success() {
            eprintln!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }

    fn run(&self, program: &str, args: &[&str]) {
        assert!(self.try_run(program, args), "{program} {args:?} failed");
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its URL.
    pub fn database(&self, db: &str) -> String {
        self.execute(&self.url("postgres"), &format!("CREATE DATABASE {db}"));
        self.url(db)
    }

    /// Connects to the database `url` names, through the server's socket (plain, whatever
    /// the server asks of TCP clients), and runs `f` with the client, under a timeout.
    pub fn with<T>(&self, url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
        let parsed: tokio_postgres::Config = url.split('?').next().unwrap().parse().unwrap();
        let mut config = tokio_postgres::Config::new();
        config
            .user("postgres")
            .dbname(parsed.get_dbname().unwrap())
            .host_path(self.dir.path())
            .port(self.port);
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), async {
                let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                let task = tokio::spawn(connection);
                let out = f(&client).await;
                drop(client);
                let _ = task.await;
                out
            })
            .await
            .expect("a query to the test server hangs")
        })
    }

    /// Runs statements.
    pub fn execute(&self, url: &str, sql: &str) {
        self.with(url, async |c| c.batch_execute(sql).await.unwrap());
    }

    /// Waits (at most 30 s) until no session holds an advisory lock: a killed client's
    /// session ends when the server notices its connection closed.
    pub fn wait_unlocked(&self, url: &str) {
        let started = Instant::now();
        loop {
            let held: i64 = self.with(url, async |c| {
                c.query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                    &[],
                )
                .await
                .unwrap()
                .get(0)
            });
            if held == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "an advisory lock is still held 30 s after its client ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
