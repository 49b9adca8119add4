//! The store in one SQLite file: WAL, so readers never wait for the writer;
//! `synchronous = FULL`, so a record is on disk (the WAL fsynced) before the
//! write returns, and an answer that names an execution can never outlive a
//! power cut that loses it (`NORMAL` would keep it across a crash of runbox
//! but not of the machine). All writes go through one thread, which commits
//! what has queued up meanwhile as one transaction: one fsync for many
//! executions when a server is busy. Other processes (a `runbox run` beside
//! the server) write to the same file through SQLite's own lock.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::rows::{Filter, LIVE_PAGE, LiveEvent, Replica, Row, StoreError, Value, Write};
use super::rows::{claims_column, claims_of, instant, millis, status_of};

/// The schema, one migration per version (`PRAGMA user_version`), applied
/// at open in order; never edited once released, only added to.
const MIGRATIONS: &[&str] = &[
    // 1: executions and the servers that run them.
    "CREATE TABLE executions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        parent_id TEXT,
        runbook TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        by_user TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        exit_code INTEGER,
        cancelled_by TEXT,
        claims TEXT NOT NULL,
        replica TEXT,
        cancel_requested_by TEXT,
        record TEXT,
        events TEXT
    );
    CREATE INDEX executions_id ON executions (id);
    CREATE INDEX executions_runbook ON executions (runbook, id);
    CREATE INDEX executions_parent ON executions (parent_id);
    CREATE INDEX executions_correlation ON executions (correlation_id, id);
    CREATE INDEX executions_running ON executions (replica) WHERE status = 'running';
    CREATE TABLE replicas (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        heartbeat_ms INTEGER NOT NULL
    );",
    // 2: running executions' events, for followers on other servers.
    "CREATE TABLE execution_events (
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq)
    );",
];

/// Waits this long for another process's write lock before failing.
const BUSY: Duration = Duration::from_secs(10);

/// Writes queued at once go into one transaction, at most this many.
const BATCH: usize = 512;

/// The store in one SQLite file.
pub struct Sqlite {
    path: PathBuf,
    created: bool,
    writes: Mutex<mpsc::Sender<Job>>,
    /// Read connections not in use.
    readers: Mutex<Vec<Connection>>,
}

/// One write, and where its result goes once committed.
struct Job {
    write: Write,
    done: mpsc::Sender<Result<usize, String>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Sqlite {
    /// Opens (creating) the store at `path`, migrated.
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let error = |message: String| StoreError { store: path.display().to_string(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::state::create_private_dir(dir).map_err(|e| error(format!("cannot create its folder: {e}")))?;
        }
        create_private(path).map_err(error)?;
        let mut writer = connect(path).map_err(|e| error(e.to_string()))?;
        let created = migrate(&mut writer).map_err(error)?;
        let (send, receive) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("runbox-store".into())
            .spawn(move || write_loop(writer, receive))
            .map_err(|e| error(format!("cannot start its writer: {e}")))?;
        Ok(Sqlite { path: path.to_path_buf(), created, writes: Mutex::new(send), readers: Mutex::default() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this process made the store (it was not there, or empty).
    pub fn created(&self) -> bool {
        self.created
    }

    fn error(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError { store: self.path.display().to_string(), message: message.to_string() }
    }

    /// Queues `write` and waits until it is committed; what it changed.
    pub(super) fn write(&self, write: Write) -> Result<usize, StoreError> {
        let (done, result) = mpsc::channel();
        let sent = self.writes.lock().unwrap_or_else(|e| e.into_inner()).send(Job { write, done });
        sent.map_err(|_| self.error("its writer has stopped"))?;
        result.recv().map_err(|_| self.error("its writer has stopped"))?.map_err(|e| self.error(e))
    }

    /// Runs `read` on a read connection.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let reader = self.pool().pop();
        let reader = match reader {
            Some(reader) => reader,
            None => connect(&self.path).map_err(|e| self.error(e))?,
        };
        let result = read(&reader).map_err(|e| self.error(e));
        self.pool().push(reader);
        result
    }

    fn pool(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.readers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A running (or dead) execution's kept events after number `after`,
    /// at most [`LIVE_PAGE`].
    pub fn live_events(&self, id: &str, after: u64) -> Result<Vec<LiveEvent>, StoreError> {
        self.read(|db| {
            let sql = "SELECT seq, kind, data FROM execution_events WHERE execution_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
            let mut statement = db.prepare_cached(sql)?;
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let found = statement.query_map(params![id, after, LIVE_PAGE as i64], |r| {
                Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get(1)?, r.get(2)?))
            })?;
            found.collect()
        })
    }

    /// The executions `replica` runs that someone asked to cancel, and who.
    pub fn cancels(&self, replica: &Replica) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|db| {
            let sql = "SELECT id, cancel_requested_by FROM executions
                       WHERE replica = ?1 AND status = 'running' AND cancel_requested_by IS NOT NULL";
            let mut statement = db.prepare_cached(sql)?;
            let found = statement.query_map(params![replica.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            found.collect()
        })
    }

    /// How many other servers share the store.
    pub fn others(&self, me: &Replica) -> Result<usize, StoreError> {
        self.read(|db| {
            let sql = "SELECT count(*) FROM replicas WHERE id <> ?1";
            db.prepare_cached(sql)?.query_row(params![me.id], |r| r.get::<_, i64>(0))
        })
        .map(|n| usize::try_from(n).unwrap_or(0))
    }

    /// Whether the store answers a read.
    pub fn check(&self) -> Result<(), StoreError> {
        self.read(|db| db.query_row("SELECT count(*) FROM replicas", [], |r| r.get::<_, i64>(0))).map(drop)
    }

    /// The execution `id` with its record (the newest, should two share it:
    /// deterministic runs reuse their ids).
    pub fn get(&self, id: &str) -> Result<Option<Row>, StoreError> {
        self.read(|db| {
            let sql = format!("SELECT {COLUMNS}, record FROM executions WHERE id = ?1 ORDER BY seq DESC LIMIT 1");
            db.prepare_cached(&sql)?.query_row(params![id], |r| row_of(r, true)).optional()
        })
    }

    /// A finished execution's events, if it has any kept.
    pub fn events(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.read(|db| {
            let sql = "SELECT events FROM executions WHERE id = ?1 ORDER BY seq DESC LIMIT 1";
            Ok(db.prepare_cached(sql)?.query_row(params![id], |r| r.get::<_, Option<String>>(0)).optional()?.flatten())
        })
    }

    /// Executions `filter` selects, newest first, without their records
    /// unless `records`.
    pub fn list(&self, filter: &Filter, records: bool) -> Result<Vec<Row>, StoreError> {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        for (condition, value) in filter.conditions() {
            values.push(match value {
                Value::Text(text) => rusqlite::types::Value::Text(text),
                Value::Integer(n) => rusqlite::types::Value::Integer(n),
            });
            clauses.push(format!("{condition}?{}", values.len()));
        }
        let mut sql = format!("SELECT {COLUMNS}{} FROM executions", if records { ", record" } else { "" });
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY id DESC, seq DESC LIMIT {}", filter.limit));
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(values), |r| row_of(r, records))?;
            rows.collect()
        })
    }
}

/// The columns every read takes, in [`row_of`]'s order.
const COLUMNS: &str = "id, parent_id, runbook, name, status, by_user, correlation_id, started_ms, finished_ms, exit_code, cancelled_by, claims";

fn row_of(r: &rusqlite::Row<'_>, record: bool) -> rusqlite::Result<Row> {
    let status: String = r.get(4)?;
    let claims: String = r.get(11)?;
    Ok(Row {
        id: r.get(0)?,
        parent_id: r.get(1)?,
        runbook: r.get(2)?,
        name: r.get(3)?,
        status: status_of(&status),
        by_user: r.get(5)?,
        correlation_id: r.get(6)?,
        started_at: instant(r.get(7)?),
        finished_at: r.get::<_, Option<i64>>(8)?.map(instant),
        exit_code: r.get(9)?,
        cancelled_by: r.get(10)?,
        claims: claims_of(&claims),
        record: if record { r.get(12)? } else { None },
        events: None,
    })
}

/// Creates the file (`0600`) if it is not there, and checks what is: a
/// regular file of this user's that others cannot write, not a symlink
/// (the records hold every run's output).
fn create_private(path: &Path) -> Result<(), String> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let opened = rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)).map_err(|e| match e {
        rustix::io::Errno::LOOP => "it is a symlink, which runbox does not follow for its store".to_string(),
        e => e.to_string(),
    })?;
    crate::state::owned_and_private(&opened, path)?;
    let stat = rustix::fs::fstat(&opened).map_err(|e| e.to_string())?;
    if !rustix::fs::FileType::from_raw_mode(stat.st_mode).is_file() {
        return Err("it is not a regular file".into());
    }
    Ok(())
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(path, flags)?;
    db.busy_timeout(BUSY)?;
    db.pragma_update(None, "journal_mode", "wal")?;
    db.pragma_update(None, "synchronous", "full")?;
    db.pragma_update(None, "foreign_keys", "on")?;
    Ok(db)
}

/// Brings the schema to [`MIGRATIONS`]' last version, in one transaction.
/// Returns whether it made the store (found it at version 0).
fn migrate(db: &mut Connection) -> Result<bool, String> {
    let known = MIGRATIONS.len() as i64;
    let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| e.to_string())?;
    if version == known {
        return Ok(false);
    }
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| e.to_string())?;
    if version > known {
        return Err(format!(
            "its schema is version {version}, made by a newer runbox (this one knows {known}): run that runbox, or give another store"
        ));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        tx.execute_batch(migration).map_err(|e| format!("migration {}: {e}", index + 1))?;
    }
    tx.pragma_update(None, "user_version", known).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(version == 0)
}

/// The writer: takes a job, and whatever else has queued meanwhile, applies
/// them in one transaction, and answers each once it is committed.
fn write_loop(mut db: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = commit(&mut db, &batch);
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

fn commit(db: &mut Connection, batch: &[Job]) -> Vec<Result<usize, String>> {
    let tx = match db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return batch.iter().map(|_| Err(e.to_string())).collect(),
    };
    // Each write in a savepoint of its own: one that fails leaves the others.
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let applied = tx.execute_batch("SAVEPOINT job").and_then(|()| apply(&tx, &job.write));
        let ended = match applied {
            Ok(_) => tx.execute_batch("RELEASE job"),
            Err(_) => tx.execute_batch("ROLLBACK TO job; RELEASE job"),
        };
        results.push(applied.and_then(|n| ended.map(|()| n)).map_err(|e| e.to_string()));
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => batch.iter().map(|_| Err(format!("cannot commit: {e}"))).collect(),
    }
}

fn apply(db: &Connection, write: &Write) -> rusqlite::Result<usize> {
    match write {
        Write::Start(row, replica) => insert(db, row, Some(replica)),
        Write::Finish(row) => {
            let updated = db.prepare_cached(
                "UPDATE executions SET status = ?2, finished_ms = ?3, exit_code = ?4, cancelled_by = ?5, record = ?6, events = ?7, replica = NULL
                 WHERE seq = (SELECT seq FROM executions WHERE id = ?1 AND status = 'running' ORDER BY seq DESC LIMIT 1)",
            )?
            .execute(params![
                row.id,
                row.status.name(),
                row.finished_at.map(millis),
                row.exit_code,
                row.cancelled_by,
                row.record,
                row.events
            ])?;
            db.prepare_cached("DELETE FROM execution_events WHERE execution_id = ?1")?.execute(params![row.id])?;
            if updated > 0 { Ok(updated) } else { insert(db, row, None) }
        }
        Write::Events(live) => {
            let mut statement = db.prepare_cached(
                "INSERT INTO execution_events (execution_id, seq, kind, data) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut running =
                db.prepare_cached("SELECT 1 FROM executions WHERE id = ?1 AND status = 'running' LIMIT 1")?;
            let mut kept = 0;
            // Not for an execution that has ended meanwhile: its row has them.
            for execution in live.iter().filter(|e| running.exists(params![e.id]).unwrap_or(false)) {
                for (seq, (kind, data)) in (execution.first..).zip(&execution.events) {
                    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                    kept += statement.execute(params![execution.id, seq, kind, data])?;
                }
            }
            Ok(kept)
        }
        Write::Beat(replica, now) => db
            .prepare_cached(
                "INSERT INTO replicas (id, host, pid, heartbeat_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms",
            )?
            .execute(params![replica.id, replica.host, replica.pid, now]),
        Write::Sweep { me, now, lapse } => {
            let mut gone: Vec<String> = Vec::new();
            {
                let mut statement =
                    db.prepare_cached("SELECT id, host, pid, heartbeat_ms FROM replicas WHERE id <> ?1")?;
                let replicas = statement.query_map(params![me.id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                })?;
                for replica in replicas {
                    let (id, host, pid, beat) = replica?;
                    if me.sees_gone(&host, pid, beat, *now, *lapse) {
                        gone.push(id);
                    }
                }
            }
            let mut marked = 0;
            for id in &gone {
                marked += db
                    .prepare_cached(
                        "UPDATE executions SET status = 'interrupted', finished_ms = ?2, replica = NULL
                         WHERE replica = ?1 AND status = 'running'",
                    )?
                    .execute(params![id, now])?;
                db.prepare_cached("DELETE FROM replicas WHERE id = ?1")?.execute(params![id])?;
            }
            // Running rows of a server that never beat (killed before its first).
            marked += db
                .prepare_cached(
                    "UPDATE executions SET status = 'interrupted', finished_ms = ?2, replica = NULL
                     WHERE status = 'running' AND replica <> ?1 AND started_ms < ?3
                       AND replica NOT IN (SELECT id FROM replicas)",
                )?
                .execute(params![me.id, now, now - lapse])?;
            Ok(marked)
        }
        Write::Import(rows) => rows.iter().try_fold(0, |n, row| Ok(n + insert(db, row, None)?)),
        Write::Cancel(id, by) => db
            .prepare_cached(
                "UPDATE executions SET cancel_requested_by = ?2
                 WHERE id = ?1 AND status = 'running' AND cancel_requested_by IS NULL",
            )?
            .execute(params![id, by]),
        Write::Prune(retention, now) => {
            let mut gone = 0;
            if let Some(age) = retention.max_age_secs {
                let cutoff = now.saturating_sub(i64::try_from(age.saturating_mul(1000)).unwrap_or(i64::MAX));
                gone += db
                    .prepare_cached("DELETE FROM executions WHERE status <> 'running' AND started_ms < ?1")?
                    .execute(params![cutoff])?;
            }
            if let Some(keep) = retention.per_runbook {
                gone += db
                    .prepare_cached(
                        "DELETE FROM executions WHERE seq IN (
                           SELECT seq FROM (
                             SELECT seq, ROW_NUMBER() OVER (PARTITION BY runbook ORDER BY id DESC, seq DESC) AS n
                             FROM executions WHERE status <> 'running')
                           WHERE n > ?1)",
                    )?
                    .execute(params![i64::try_from(keep).unwrap_or(i64::MAX)])?;
            }
            if gone > 0 {
                db.prepare_cached(
                    "DELETE FROM execution_events WHERE execution_id NOT IN (SELECT id FROM executions)",
                )?
                .execute([])?;
            }
            Ok(gone)
        }
    }
}

fn insert(db: &Connection, row: &Row, replica: Option<&String>) -> rusqlite::Result<usize> {
    let claims = claims_column(&row.claims);
    db.prepare_cached(
        "INSERT INTO executions (id, parent_id, runbook, name, status, by_user, correlation_id, started_ms,
           finished_ms, exit_code, cancelled_by, claims, replica, record, events)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        row.id,
        row.parent_id,
        row.runbook,
        row.name,
        row.status.name(),
        row.by_user,
        row.correlation_id,
        millis(row.started_at),
        row.finished_at.map(millis),
        row.exit_code,
        row.cancelled_by,
        claims,
        replica,
        row.record,
        row.events
    ])
}
