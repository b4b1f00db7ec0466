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
            let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(
                !required,
                "{REQUIRE_VAR} is set but PostgreSQL is unavailable: {reason}"
            );
            // Straight to the terminal: the test harness hides what
            // passing tests print, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PostgreSQL ({reason}); install the postgresql package or \
                 set {URL_VAR}"
            );
            None
        }
    }
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
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
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
