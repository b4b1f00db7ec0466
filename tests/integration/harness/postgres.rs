//! A real PostgreSQL for the tests: `PAYOPS_TEST_DATABASE_URL` when set,
//! otherwise a throwaway cluster made with the machine's own `initdb` and
//! `pg_ctl` in a temporary folder, listening on a free loopback port. As
//! root the cluster runs as the `postgres` user (PostgreSQL refuses root).
//!
//! One cluster serves the whole test binary; each test gets a database of
//! its own. A watcher process stops the cluster and removes its folder when
//! the test binary exits, however it exits.
//!
//! Without PostgreSQL the tests that need it are skipped, each saying so on
//! the terminal; with `PAYOPS_REQUIRE_POSTGRES=1` (CI sets it) they fail
//! instead, so CI can never pass by skipping them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the admin connection goes: a URL whose database may be replaced.
struct Cluster {
    admin_url: String,
}

const REQUIRE_VAR: &str = "PAYOPS_REQUIRE_POSTGRES";
const URL_VAR: &str = "PAYOPS_TEST_DATABASE_URL";

fn cluster() -> &'static Result<Cluster, String> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    CLUSTER.get_or_init(|| match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Ok(Cluster { admin_url: url }),
        _ => start_cluster(),
    })
}

/// A fresh, empty database's URL, or `None` (after saying why) when
/// PostgreSQL is not available and not required.
pub fn database(test: &str) -> Option<String> {
    match cluster() {
        Ok(cluster) => Some(create_database(&cluster.admin_url)),
        Err(reason) => {
            skip(
                test,
                &format!("PostgreSQL is unavailable: {reason}"),
                &format!(
                    "no PostgreSQL ({reason}); install the postgresql package or set {URL_VAR}"
                ),
            );
            None
        }
    }
}

/// Fails when PostgreSQL is required (`problem` says what went wrong);
/// else says that `test` is skipped, and why.
fn skip(test: &str, problem: &str, why: &str) {
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(!required, "{REQUIRE_VAR} is set but {problem}");
    // Straight to the terminal: the test harness hides what passing tests
    // print, and a skip must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

fn create_database(admin_url: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "payops_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = admin_url.to_string();
    let statement = format!("CREATE DATABASE {name}");
    // A thread of its own: async tests call this from inside their runtime.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .expect("the test PostgreSQL accepts the admin connection");
            tokio::spawn(connection);
            client
                .batch_execute(&statement)
                .await
                .expect("a test database is created");
        });
    })
    .join()
    .expect("the test database is created");
    with_database(admin_url, &name)
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("the test database URL parses");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

fn bin_dir() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no /usr/lib/postgresql".to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| "no initdb and pg_ctl under /usr/lib/postgresql/*/bin".into())
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// `program args…`, as the `postgres` user when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn start_cluster() -> Result<Cluster, String> {
    start_cluster_with(None)
}

/// A cluster that speaks TLS, with certificates made here: a certificate
/// authority, and the server's certificate it signed for `localhost` and
/// `db.internal` (not for 127.0.0.1, so that name can be seen to mismatch).
pub struct TlsCluster {
    /// `postgres://postgres@{host}:{port}/postgres`, host to be filled in.
    pub port: u16,
    /// The authority that signed the server's certificate, as a file.
    pub ca_file: PathBuf,
    /// Another authority, which vouches for nothing of this server's.
    pub other_ca_file: PathBuf,
}

/// The TLS cluster (started once), or None after saying why, as
/// [`database`] does.
pub fn tls_cluster(test: &str) -> Option<&'static TlsCluster> {
    static TLS: OnceLock<Result<TlsCluster, String>> = OnceLock::new();
    let started = TLS.get_or_init(|| {
        let folder = tempfile::Builder::new()
            .prefix("payops-pg-tls-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let authority =
            |name: &str| -> Result<(rcgen::Issuer<'static, rcgen::KeyPair>, String), String> {
                let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
                    .map_err(|e| e.to_string())?;
                params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, name);
                let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
                let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
                Ok((rcgen::Issuer::new(params, key), cert.pem()))
            };
        let (issuer, ca_pem) = authority("payops test CA")?;
        let (_, other_pem) = authority("someone else's CA")?;
        let server_key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let server = rcgen::CertificateParams::new(vec!["localhost".into(), "db.internal".into()])
            .map_err(|e| e.to_string())?
            .signed_by(&server_key, &issuer)
            .map_err(|e| e.to_string())?;
        let ca_file = folder.join("ca.pem");
        let other_ca_file = folder.join("other-ca.pem");
        std::fs::write(&ca_file, ca_pem).map_err(|e| e.to_string())?;
        std::fs::write(&other_ca_file, other_pem).map_err(|e| e.to_string())?;
        let files = (server.pem(), server_key.serialize_pem());
        let cluster = start_cluster_with(Some(files))?;
        let port = cluster
            .admin_url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .ok_or("no port in the TLS cluster's URL")?;
        Ok(TlsCluster {
            port,
            ca_file,
            other_ca_file,
        })
    });
    match started {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            skip(
                test,
                &format!("a TLS PostgreSQL could not start: {reason}"),
                &format!("no TLS PostgreSQL ({reason})"),
            );
            None
        }
    }
}

/// A cluster, speaking TLS with this certificate and key (PEM) when given.
fn start_cluster_with(tls: Option<(String, String)>) -> Result<Cluster, String> {
    let bin = bin_dir()?;
    let folder = tempfile::Builder::new()
        .prefix("payops-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("-R").arg("postgres:postgres").arg(&folder);
                c
            },
            "chown",
        )?;
    }
    let data = folder.join("data");
    let mut initdb = as_server_user(&bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    run(initdb, "initdb")?;
    let mut tls_options = String::new();
    if let Some((cert, key)) = tls {
        use std::os::unix::fs::PermissionsExt;
        for (name, pem) in [("server.crt", cert), ("server.key", key)] {
            let path = data.join(name);
            std::fs::write(&path, pem).map_err(|e| format!("{name}: {e}"))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{name}: {e}"))?;
            if is_root() {
                let mut chown = Command::new("chown");
                chown.arg("postgres:postgres").arg(&path);
                run(chown, "chown")?;
            }
        }
        tls_options = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
    }
    let port = free_port()?;
    let mut start = as_server_user(&bin.join("pg_ctl"));
    start
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(folder.join("server.log"))
        .arg("-o")
        .arg(format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200{tls_options}",
            folder.display()
        ))
        .args(["-w", "-t", "60", "start"]);
    if let Err(error) = run(start, "pg_ctl start") {
        let log = std::fs::read_to_string(folder.join("server.log")).unwrap_or_default();
        return Err(format!("{error}\n{log}"));
    }
    watch_and_stop(&bin, &data, &folder)?;
    Ok(Cluster {
        admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
    })
}

/// A detached watcher: when this test process is gone, stop the cluster
/// and remove its folder.
fn watch_and_stop(bin: &Path, data: &Path, folder: &Path) -> Result<(), String> {
    let pg_ctl = bin.join("pg_ctl");
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- '{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "'{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; \
         rm -rf '{folder}'",
        pid = std::process::id(),
        folder = folder.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the cluster's watcher: {e}"))
}
