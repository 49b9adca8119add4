//! The record store in PostgreSQL: each test starts a private cluster of
//! its own (`initdb` in a temporary folder, on a free loopback port, as an
//! unprivileged user), never a shared system service, and runs the store's
//! black-box tests against it: two servers as one service, a server killed
//! with -9, the retention, a database lost while serving, and `runbox run`
//! and `history` through `RUNBOX_STORE`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::{request, serve, token};
use crate::api_executions::slow;
use crate::harness::{Scratch, Yaml};
use crate::store::{
    a_server_killed_with_9_leaves_its_executions_interrupted, poll_status, retention_and_children,
    two_servers_list_show_follow_and_cancel, unavailable,
};

/// A PostgreSQL cluster of the test's own, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// The folder of PostgreSQL's server programs: `initdb`, `pg_ctl` and
/// `psql` on PATH, else Debian's newest `/usr/lib/postgresql/N/bin` (scripts/test
/// installs it).
fn server_programs() -> PathBuf {
    if let Some(found) = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).find(|dir| ["initdb", "pg_ctl", "psql"].iter().all(|p| dir.join(p).is_file()))
    }) {
        return found;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect("PostgreSQL's initdb is not installed: scripts/test installs it")
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let cluster = Cluster { bin: server_programs(), port: 0, dir };
        // initdb and postgres refuse to run as root: they run as nobody then.
        if rustix::process::geteuid().is_root() {
            rustix::fs::chown(cluster.dir.path(), Some(rustix::fs::Uid::from_raw(65534)), None).unwrap();
        }
        let data = cluster.data();
        let made = cluster
            .program("initdb", &["-D", &data, "-U", "runbox", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(made.status.success(), "initdb: {}", String::from_utf8_lossy(&made.stderr));
        let mut cluster = cluster;
        cluster.port = cluster.up();
        cluster
    }

    /// Starts the server on a free port (another test may take the one it
    /// found first: then another); returns the port.
    fn up(&self) -> u16 {
        for _ in 0..5 {
            let port = if self.port != 0 { self.port } else { free_port() };
            let options = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off");
            let log = self.dir.path().join("server.log").to_string_lossy().into_owned();
            let started = self
                .program("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"])
                .output()
                .unwrap();
            if started.status.success() {
                return port;
            }
            assert_eq!(self.port, 0, "restart on {}: {}", self.port, std::fs::read_to_string(&log).unwrap_or_default());
        }
        panic!("no free port for PostgreSQL after 5 tries");
    }

    /// Stops the server at once, as a lost database is lost.
    fn down(&self) {
        let stopped = self.program("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]).output().unwrap();
        assert!(stopped.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&stopped.stderr));
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// One of the cluster's programs, as the user the cluster runs as.
    fn program(&self, name: &str, args: &[&str]) -> Command {
        let program = self.bin.join(name);
        let mut command = if rustix::process::geteuid().is_root() {
            let mut command = Command::new("setpriv");
            command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args).current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    /// The URL of the cluster's database (each test has a cluster).
    fn url(&self) -> String {
        format!("postgres://runbox@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.program("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]).output();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn two_servers_on_one_postgresql_are_one_service() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let s = Scratch::new();
    two_servers_list_show_follow_and_cancel(&s, &["--store", &url]);
    assert_eq!(std::fs::metadata(s.state.path().join("executions.db")).ok().map(|m| m.len()), None, "no SQLite file");
}

#[test]
fn a_server_on_postgresql_killed_with_9_leaves_its_executions_interrupted() {
    let cluster = Cluster::start();
    let url = cluster.url();
    a_server_killed_with_9_leaves_its_executions_interrupted(&Scratch::new(), &["--store", &url]);
}

#[test]
fn postgresql_keeps_what_the_retention_says() {
    let cluster = Cluster::start();
    let url = cluster.url();
    retention_and_children(&Scratch::new(), &["--store", &url]);
}

#[test]
fn a_database_lost_while_serving_answers_503_until_it_is_back() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let s = Scratch::new();
    slow(&s, "Quick", 0);
    let ada = token("ada", json!({}));
    let server = serve(&s, &["--store", &url]);
    let execute = format!("{}/api/runbooks/Quick.md/execute", server.base);
    let ready = format!("{}/ready", server.base);
    assert_eq!(request("POST", &execute, Some(&ada), &[], "").status, 200);
    // A caller named with what PostgreSQL's text cannot hold (a NUL) is
    // recorded, not refused for a store error.
    let nul = request("POST", &execute, Some(&token("nul\u{0}named", json!({}))), &[], "");
    assert_eq!(nul.status, 200, "{:#}", nul.json);
    let listed = request("GET", &format!("{}/api/executions?limit=1", server.base), Some(&ada), &[], "").json;
    let kept = &listed["executions"][0];
    assert_eq!((&kept["execution_id"], &kept["by_user"]), (&nul.json["execution_id"], &json!("nul\u{fffd}named")));
    cluster.down();
    let message = unavailable(&server.base, &execute, &ada);
    assert!(
        message.starts_with("the record store <record store>: cannot connect: error connecting to server"),
        "named by its role, not its URL: {message}"
    );
    // Back: the server connects again by itself.
    cluster.up();
    assert_eq!(poll_status(&ready, 200), 200);
    let ran = request("POST", &execute, Some(&ada), &[], "");
    assert_eq!((ran.status, &ran.json["stdout"]), (200, &json!("first\nsecond\n")), "{:#}", ran.json);
    let listed = request("GET", &format!("{}/api/executions?runbook=Quick.md", server.base), Some(&ada), &[], "");
    assert_eq!(listed.json["executions"].as_array().map(Vec::len), Some(3), "{:#}", listed.json);
}

#[test]
fn runs_and_history_use_the_database_runbox_store_names_and_never_show_its_password() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let s = Scratch::new();
    s.write("nul.yaml", &Yaml::new("Counted").sh("count", "echo counted").text());
    for _ in 0..2 {
        s.runbox().env("RUNBOX_STORE", &url).args(["run", "nul.yaml"]).run().success().stdout_has("counted");
    }
    let history = s.runbox().env("RUNBOX_STORE", &url).args(["history", "nul.yaml", "--json"]).run();
    let stdout: Vec<serde_json::Value> =
        history.success().json().as_array().unwrap().iter().map(|e| e["stdout"].clone()).collect();
    assert_eq!(stdout, [json!("counted\n"), json!("counted\n")]);
    assert_eq!(std::fs::metadata(s.state.path().join("executions.db")).ok().map(|m| m.len()), None, "no SQLite file");
    // A database that is not there: named, without its password, and the
    // run still runs (its record is in the log).
    let secret = "hunter2-planted";
    let gone = format!("postgres://runbox:{secret}@127.0.0.1:{}/runbox", free_port());
    let ran = s.runbox().env("RUNBOX_STORE", &gone).args(["run", "nul.yaml"]).run();
    let text = ran.success().stderr.clone();
    let named = format!("runbox: the record store {}: cannot connect", gone.replace(&format!(":{secret}"), ""));
    assert!(text.contains(&named), "{text}");
    let key = s.write("jwt.secret", "a secret of thirty-two bytes or more");
    let key = key.to_string_lossy();
    let served = s.runbox().args(["serve", "--dir", ".", "--addr", "127.0.0.1:0", "--jwt-secret-file", &key]);
    let served = served.env("RUNBOX_STORE", &gone).run();
    assert_ne!(served.code, 0);
    assert!(served.stderr.contains(&named), "{}", served.stderr);
    for output in [&ran.stdout, &ran.stderr, &served.stdout, &served.stderr, &s.log()] {
        assert!(!output.contains(secret), "the password shown: {output}");
    }
    // A URL runbox cannot read: what is wrong, and the form it takes.
    let bad =
        s.runbox().env("RUNBOX_STORE", "postgres://runbox@127.0.0.1/x?sslmod=require").args(["history", "nul.yaml"]);
    bad.run().code(2).stderr_has(
        "runbox: the record store <the PostgreSQL URL given>: invalid connection string: unknown option `sslmod` (the form is postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require])",
    );
}

#[test]
fn a_database_a_newer_runbox_migrated_is_refused_saying_so() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let s = Scratch::new();
    s.write("counted.yaml", &Yaml::new("Counted").sh("count", "echo counted").text());
    s.runbox().env("RUNBOX_STORE", &url).args(["history", "counted.yaml"]).run().success();
    let port = cluster.port.to_string();
    let sql = "UPDATE runbox_schema SET version = 99";
    let mut moved =
        cluster.program("psql", &["-h", "127.0.0.1", "-p", &port, "-U", "runbox", "-d", "postgres", "-c", sql]);
    let moved = moved.output().unwrap();
    assert!(moved.status.success(), "psql: {}", String::from_utf8_lossy(&moved.stderr));
    let refused = s.runbox().env("RUNBOX_STORE", &url).args(["history", "counted.yaml"]).run();
    refused.code(2).stderr_has(&format!(
        "runbox: the record store postgres://runbox@127.0.0.1:{port}/postgres: its schema is version 99, made by a newer runbox (this one knows 2): run that runbox, or give another store"
    ));
}

#[test]
fn a_cluster_of_the_tests_own_stops_with_the_test() {
    let cluster = Cluster::start();
    let port = cluster.port;
    let data = PathBuf::from(cluster.data());
    drop(cluster);
    assert!(!Path::new(&data).exists(), "its folder went");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing answers on {port}");
}
