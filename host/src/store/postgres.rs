//! The store in a PostgreSQL database, for servers on several machines
//! sharing one history: the same tables as SQLite's, made by the same
//! numbered migrations (under an advisory lock, so replicas starting
//! together migrate once). A store of its own thread: a tokio runtime there
//! owns one connection that commits writes (what has queued as one
//! transaction, a savepoint each, like SQLite's writer) and one on which
//! reads are pipelined; both reconnect when lost, so a database that comes
//! back is used again. The sync methods send their work to that thread and
//! wait, from whatever thread calls them (a run's, a blocking task's).
//!
//! Cancels asked through another server reach the one running the
//! execution the way SQLite's do: it reads them every [`super::CANCEL_POLL`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::rows::{Filter, LIVE_PAGE, LiveEvent, Replica, Row, StoreError, Value, Write};
use super::rows::{claims_column, claims_of, instant, millis, status_of};

/// The schema, one migration per version (the `runbox_schema` table),
/// applied at open in order; never edited once released, only added to.
/// Version N is SQLite's version N in PostgreSQL's types.
const MIGRATIONS: &[&str] = &[
    // 1: executions and the servers that run them.
    "CREATE TABLE executions (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL,
        parent_id TEXT,
        runbook TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        by_user TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        started_ms BIGINT NOT NULL,
        finished_ms BIGINT,
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
        pid BIGINT NOT NULL,
        heartbeat_ms BIGINT NOT NULL
    );",
    // 2: running executions' events, for followers on other servers.
    "CREATE TABLE execution_events (
        execution_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq)
    );",
];

/// The key of the advisory lock migrations take ("runbox" in ASCII).
const MIGRATION_LOCK: i64 = 0x72_75_6e_62_6f_78;

/// How long connecting may take, and any one job (a batch of writes, a
/// read) once connected: a database that hangs is an error, not a request
/// held forever.
const CONNECT: Duration = Duration::from_secs(5);
const JOB: Duration = Duration::from_secs(30);

/// Writes queued at once go into one transaction, at most this many.
const BATCH: usize = 512;

/// The store in a PostgreSQL database.
pub struct Postgres {
    /// The database as errors name it: its URL without the password.
    name: String,
    created: bool,
    writes: mpsc::UnboundedSender<WriteJob>,
    reads: mpsc::UnboundedSender<ReadJob>,
}

/// One write, and where its result goes once committed.
struct WriteJob {
    write: Write,
    done: std_mpsc::Sender<Result<usize, String>>,
}

/// A read, given the read connection (or why there is none).
type ReadJob = Box<dyn FnOnce(Result<Arc<Client>, String>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Whether `location` names a PostgreSQL database rather than a file.
pub(super) fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Postgres {
    /// Connects to the database at `url` and migrates it: a database that
    /// cannot be reached is an error naming it.
    pub fn open(url: &str) -> Result<Postgres, StoreError> {
        let config: Config = url.parse().map_err(|e| StoreError {
            store: "<the PostgreSQL URL given>".into(),
            message: format!(
                "{} (the form is postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require])",
                described(&e)
            ),
        })?;
        let name = display(&config);
        let error = |message: String| StoreError { store: name.clone(), message };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| error(format!("cannot start its thread: {e}")))?;
        let tls = tls().map_err(&error)?;
        let (writes, written) = mpsc::unbounded_channel();
        let (reads, read) = mpsc::unbounded_channel();
        let (opened, open) = std_mpsc::channel();
        let database = Database { config, tls };
        std::thread::Builder::new()
            .name("runbox-store".into())
            .spawn(move || runtime.block_on(serve(database, written, read, opened)))
            .map_err(|e| error(format!("cannot start its thread: {e}")))?;
        let created = open.recv().map_err(|_| error("its thread stopped".into()))?.map_err(&error)?;
        Ok(Postgres { name, created, writes, reads })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this process made the store's tables.
    pub fn created(&self) -> bool {
        self.created
    }

    fn error(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError { store: self.name.clone(), message: message.to_string() }
    }

    /// Queues `write` and waits until it is committed; what it changed.
    pub(super) fn write(&self, write: Write) -> Result<usize, StoreError> {
        let (done, result) = std_mpsc::channel();
        self.writes.send(WriteJob { write, done }).map_err(|_| self.error("its thread has stopped"))?;
        result.recv().map_err(|_| self.error("its thread has stopped"))?.map_err(|e| self.error(e))
    }

    /// Runs `query` on the read connection and waits for its answer.
    fn read<T, F, Fut>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Client>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let (done, result) = std_mpsc::channel();
        let job: ReadJob = Box::new(move |client| {
            Box::pin(async move {
                let answer = match client {
                    Ok(client) => match tokio::time::timeout(JOB, query(client)).await {
                        Ok(answer) => answer.map_err(|e| described(&e)),
                        Err(_) => Err(format!("no answer within {} s", JOB.as_secs())),
                    },
                    Err(e) => Err(e),
                };
                let _ = done.send(answer);
            })
        });
        self.reads.send(job).map_err(|_| self.error("its thread has stopped"))?;
        result.recv().map_err(|_| self.error("its thread has stopped"))?.map_err(|e| self.error(e))
    }

    pub fn live_events(&self, id: &str, after: u64) -> Result<Vec<LiveEvent>, StoreError> {
        let id = clean(id);
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(move |db| async move {
            let sql = "SELECT seq, kind, data FROM execution_events WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
            let rows = db.query(sql, &[&id, &after, &(LIVE_PAGE as i64)]).await?;
            rows.iter()
                .map(|r| Ok((u64::try_from(r.try_get::<_, i64>(0)?).unwrap_or(0), r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
    }

    pub fn cancels(&self, replica: &Replica) -> Result<Vec<(String, String)>, StoreError> {
        let replica = replica.id.clone();
        self.read(move |db| async move {
            let sql = "SELECT id, cancel_requested_by FROM executions
                       WHERE replica = $1 AND status = 'running' AND cancel_requested_by IS NOT NULL";
            let rows = db.query(sql, &[&replica]).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    pub fn others(&self, me: &Replica) -> Result<usize, StoreError> {
        let me = me.id.clone();
        self.read(move |db| async move {
            let row = db.query_one("SELECT count(*) FROM replicas WHERE id <> $1", &[&me]).await?;
            Ok(usize::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
        })
    }

    pub fn check(&self) -> Result<(), StoreError> {
        self.read(|db| async move { db.query_one("SELECT count(*) FROM replicas", &[]).await.map(drop) })
    }

    pub fn get(&self, id: &str) -> Result<Option<Row>, StoreError> {
        let id = id.to_string();
        self.read(move |db| async move {
            let sql = format!("SELECT {COLUMNS}, record FROM executions WHERE id = $1 ORDER BY seq DESC LIMIT 1");
            db.query_opt(&sql, &[&id]).await?.map(|r| row_of(&r, true)).transpose()
        })
    }

    pub fn events(&self, id: &str) -> Result<Option<String>, StoreError> {
        let id = id.to_string();
        self.read(move |db| async move {
            let sql = "SELECT events FROM executions WHERE id = $1 ORDER BY seq DESC LIMIT 1";
            Ok(db.query_opt(sql, &[&id]).await?.map(|r| r.try_get::<_, Option<String>>(0)).transpose()?.flatten())
        })
    }

    pub fn list(&self, filter: &Filter, records: bool) -> Result<Vec<Row>, StoreError> {
        let mut clauses = Vec::new();
        let mut values: Vec<Box<dyn ToSql + Send + Sync>> = Vec::new();
        for (condition, value) in filter.conditions() {
            values.push(match value {
                Value::Text(text) => Box::new(clean(&text)),
                Value::Integer(n) => Box::new(n),
            });
            clauses.push(format!("{condition}${}", values.len()));
        }
        let mut sql = format!("SELECT {COLUMNS}{} FROM executions", if records { ", record" } else { "" });
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY id DESC, seq DESC LIMIT {}", filter.limit));
        self.read(move |db| async move {
            let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
            let rows = db.query(&sql, &values).await?;
            rows.iter().map(|r| row_of(r, records)).collect()
        })
    }
}

/// The database's URL as errors and logs name it: never its password.
fn display(config: &Config) -> String {
    use tokio_postgres::config::Host;
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
    let database = config.get_dbname().unwrap_or("");
    format!("postgres://{user}@{host}{port}/{database}")
}

/// TLS to the database when its URL asks for it (`sslmode=require`), or
/// when the server offers it (the default, `prefer`): webpki's roots and
/// the system's.
fn tls() -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A PostgreSQL error as the store's message: the server's own words when
/// it sent some.
fn described(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut described = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        described.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    described
}

/// Where the store's thread connects.
struct Database {
    config: Config,
    tls: MakeRustlsConnect,
}

impl Database {
    async fn connect(&self) -> Result<Client, String> {
        let connecting = self.config.connect(self.tls.clone());
        let (client, connection) = match tokio::time::timeout(CONNECT, connecting).await {
            Ok(connected) => connected.map_err(|e| format!("cannot connect: {}", described(&e)))?,
            Err(_) => return Err(format!("cannot connect within {} s", CONNECT.as_secs())),
        };
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("the record store's connection ended: {e}");
            }
        });
        Ok(client)
    }
}

/// The store's thread: connects and migrates (answering `opened`), then
/// commits writes and runs reads until the store is dropped.
async fn serve(
    database: Database,
    writes: mpsc::UnboundedReceiver<WriteJob>,
    mut reads: mpsc::UnboundedReceiver<ReadJob>,
    opened: std_mpsc::Sender<Result<bool, String>>,
) {
    let mut writer = match database.connect().await {
        Ok(client) => client,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let migrated = tokio::time::timeout(JOB, migrate(&mut writer)).await;
    let migrated = migrated.unwrap_or_else(|_| Err(format!("its migration took more than {} s", JOB.as_secs())));
    let failed = migrated.is_err();
    let _ = opened.send(migrated);
    if failed {
        return;
    }
    let database = Arc::new(database);
    tokio::spawn(write_loop(Arc::clone(&database), Some(writer), writes));
    let mut reader: Option<Arc<Client>> = None;
    while let Some(job) = reads.recv().await {
        if reader.as_ref().is_none_or(|r| r.is_closed()) {
            reader = None;
            match database.connect().await {
                Ok(client) => reader = Some(Arc::new(client)),
                Err(e) => {
                    tokio::spawn(job(Err(e)));
                    continue;
                }
            }
        }
        if let Some(client) = &reader {
            tokio::spawn(job(Ok(Arc::clone(client))));
        }
    }
}

/// Brings the schema to [`MIGRATIONS`]' last version, in one transaction
/// that holds the migration lock. Returns whether it made the tables.
async fn migrate(db: &mut Client) -> Result<bool, String> {
    let known = MIGRATIONS.len() as i32;
    let tx = db.transaction().await.map_err(|e| described(&e))?;
    tx.query_one("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(|e| described(&e))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS runbox_schema (version INTEGER NOT NULL)")
        .await
        .map_err(|e| described(&e))?;
    let version: i32 = tx
        .query_opt("SELECT version FROM runbox_schema", &[])
        .await
        .map_err(|e| described(&e))?
        .map(|r| r.get(0))
        .unwrap_or(0);
    if version > known {
        return Err(format!(
            "its schema is version {version}, made by a newer runbox (this one knows {known}): run that runbox, or give another store"
        ));
    }
    if version == known {
        return Ok(false);
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        tx.batch_execute(migration).await.map_err(|e| format!("migration {}: {}", index + 1, described(&e)))?;
    }
    tx.execute("DELETE FROM runbox_schema", &[]).await.map_err(|e| described(&e))?;
    tx.execute("INSERT INTO runbox_schema (version) VALUES ($1)", &[&known]).await.map_err(|e| described(&e))?;
    tx.commit().await.map_err(|e| described(&e))?;
    Ok(version == 0)
}

/// The writer: takes a job, and whatever else has queued meanwhile, applies
/// them in one transaction, and answers each once it is committed. A lost
/// connection is made again for the next batch.
async fn write_loop(database: Arc<Database>, mut writer: Option<Client>, mut jobs: mpsc::UnboundedReceiver<WriteJob>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if writer.as_ref().is_none_or(|w| w.is_closed()) {
            writer = None;
            match database.connect().await {
                Ok(client) => writer = Some(client),
                Err(e) => {
                    for job in batch {
                        let _ = job.done.send(Err(e.clone()));
                    }
                    continue;
                }
            }
        }
        let Some(db) = writer.as_mut() else { continue };
        let results = match tokio::time::timeout(JOB, commit(db, &batch)).await {
            Ok(results) => results,
            Err(_) => {
                // Whether it committed is unknown: the connection goes, and
                // the writes are reported failed.
                writer = None;
                batch.iter().map(|_| Err(format!("no answer within {} s", JOB.as_secs()))).collect()
            }
        };
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

async fn commit(db: &mut Client, batch: &[WriteJob]) -> Vec<Result<usize, String>> {
    let mut tx = match db.transaction().await {
        Ok(tx) => tx,
        Err(e) => return batch.iter().map(|_| Err(described(&e))).collect(),
    };
    // Each write in a savepoint of its own: one that fails leaves the others.
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let result = match tx.savepoint("job").await {
            Ok(savepoint) => match apply(&savepoint, &job.write).await {
                Ok(n) => savepoint.commit().await.map(|()| n).map_err(|e| described(&e)),
                Err(e) => {
                    let _ = savepoint.rollback().await;
                    Err(described(&e))
                }
            },
            Err(e) => Err(described(&e)),
        };
        results.push(result);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => batch.iter().map(|_| Err(format!("cannot commit: {}", described(&e)))).collect(),
    }
}

/// PostgreSQL's text cannot hold a NUL character; a runbook's name, a
/// token's subject or a record could: each becomes U+FFFD.
fn clean(text: &str) -> String {
    text.replace('\0', "\u{fffd}")
}

fn cleaned(text: &Option<String>) -> Option<String> {
    text.as_deref().map(clean)
}

async fn apply(db: &tokio_postgres::Transaction<'_>, write: &Write) -> Result<usize, tokio_postgres::Error> {
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    match write {
        Write::Start(row, replica) => insert(db, row, Some(replica)).await,
        Write::Finish(row) => {
            let updated = db
                .execute(
                    "UPDATE executions SET status = $2, finished_ms = $3, exit_code = $4, cancelled_by = $5, record = $6, events = $7, replica = NULL
                     WHERE seq = (SELECT seq FROM executions WHERE id = $1 AND status = 'running' ORDER BY seq DESC LIMIT 1)",
                    &[
                        &clean(&row.id),
                        &row.status.name(),
                        &row.finished_at.map(millis),
                        &row.exit_code,
                        &cleaned(&row.cancelled_by),
                        &cleaned(&row.record),
                        &cleaned(&row.events),
                    ],
                )
                .await?;
            db.execute("DELETE FROM execution_events WHERE execution_id = $1", &[&clean(&row.id)]).await?;
            if updated > 0 { Ok(count(updated)) } else { insert(db, row, None).await }
        }
        Write::Events(live) => {
            let statement = db
                .prepare(
                    "INSERT INTO execution_events (execution_id, seq, kind, data) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            let running = "SELECT 1 FROM executions WHERE id = $1 AND status = 'running' LIMIT 1";
            let mut kept = 0;
            for execution in live {
                let id = clean(&execution.id);
                // Not for an execution that has ended meanwhile: its row has them.
                if db.query_opt(running, &[&id]).await?.is_none() {
                    continue;
                }
                for (seq, (kind, data)) in (execution.first..).zip(&execution.events) {
                    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                    kept += db.execute(&statement, &[&id, &seq, kind, &clean(data)]).await?;
                }
            }
            Ok(count(kept))
        }
        Write::Beat(replica, now) => db
            .execute(
                "INSERT INTO replicas (id, host, pid, heartbeat_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms",
                &[&replica.id, &clean(&replica.host), &i64::from(replica.pid), now],
            )
            .await
            .map(count),
        Write::Sweep { me, now, lapse } => {
            let replicas =
                db.query("SELECT id, host, pid, heartbeat_ms FROM replicas WHERE id <> $1", &[&me.id]).await?;
            let mut marked = 0;
            for replica in replicas {
                let (id, host, pid, beat): (String, String, i64, i64) =
                    (replica.try_get(0)?, replica.try_get(1)?, replica.try_get(2)?, replica.try_get(3)?);
                if !me.sees_gone(&host, pid, beat, *now, *lapse) {
                    continue;
                }
                marked += db
                    .execute(
                        "UPDATE executions SET status = 'interrupted', finished_ms = $2, replica = NULL
                         WHERE replica = $1 AND status = 'running'",
                        &[&id, now],
                    )
                    .await?;
                db.execute("DELETE FROM replicas WHERE id = $1", &[&id]).await?;
            }
            // Running rows of a server that never beat (killed before its first).
            marked += db
                .execute(
                    "UPDATE executions SET status = 'interrupted', finished_ms = $2, replica = NULL
                     WHERE status = 'running' AND replica <> $1 AND started_ms < $3
                       AND replica NOT IN (SELECT id FROM replicas)",
                    &[&me.id, now, &(now - lapse)],
                )
                .await?;
            Ok(count(marked))
        }
        Write::Import(rows) => {
            let mut imported = 0;
            for row in rows {
                imported += insert(db, row, None).await?;
            }
            Ok(imported)
        }
        Write::Cancel(id, by) => db
            .execute(
                "UPDATE executions SET cancel_requested_by = $2
                 WHERE id = $1 AND status = 'running' AND cancel_requested_by IS NULL",
                &[&clean(id), &clean(by)],
            )
            .await
            .map(count),
        Write::Prune(retention, now) => {
            let mut gone = 0;
            if let Some(age) = retention.max_age_secs {
                let cutoff = now.saturating_sub(i64::try_from(age.saturating_mul(1000)).unwrap_or(i64::MAX));
                gone += db
                    .execute("DELETE FROM executions WHERE status <> 'running' AND started_ms < $1", &[&cutoff])
                    .await?;
            }
            if let Some(keep) = retention.per_runbook {
                let keep = i64::try_from(keep).unwrap_or(i64::MAX);
                gone += db
                    .execute(
                        "DELETE FROM executions WHERE seq IN (
                           SELECT seq FROM (
                             SELECT seq, ROW_NUMBER() OVER (PARTITION BY runbook ORDER BY id DESC, seq DESC) AS n
                             FROM executions WHERE status <> 'running') AS ranked
                           WHERE n > $1)",
                        &[&keep],
                    )
                    .await?;
            }
            if gone > 0 {
                db.execute("DELETE FROM execution_events WHERE execution_id NOT IN (SELECT id FROM executions)", &[])
                    .await?;
            }
            Ok(count(gone))
        }
    }
}

async fn insert(
    db: &tokio_postgres::Transaction<'_>,
    row: &Row,
    replica: Option<&String>,
) -> Result<usize, tokio_postgres::Error> {
    db.execute(
        "INSERT INTO executions (id, parent_id, runbook, name, status, by_user, correlation_id, started_ms,
           finished_ms, exit_code, cancelled_by, claims, replica, record, events)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &clean(&row.id),
            &cleaned(&row.parent_id),
            &clean(&row.runbook),
            &clean(&row.name),
            &row.status.name(),
            &clean(&row.by_user),
            &clean(&row.correlation_id),
            &millis(row.started_at),
            &row.finished_at.map(millis),
            &row.exit_code,
            &cleaned(&row.cancelled_by),
            &clean(&claims_column(&row.claims)),
            &replica,
            &cleaned(&row.record),
            &cleaned(&row.events),
        ],
    )
    .await
    .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// The columns every read takes, in [`row_of`]'s order.
const COLUMNS: &str = "id, parent_id, runbook, name, status, by_user, correlation_id, started_ms, finished_ms, exit_code, cancelled_by, claims";

fn row_of(r: &tokio_postgres::Row, record: bool) -> Result<Row, tokio_postgres::Error> {
    let status: String = r.try_get(4)?;
    let claims: String = r.try_get(11)?;
    Ok(Row {
        id: r.try_get(0)?,
        parent_id: r.try_get(1)?,
        runbook: r.try_get(2)?,
        name: r.try_get(3)?,
        status: status_of(&status),
        by_user: r.try_get(5)?,
        correlation_id: r.try_get(6)?,
        started_at: instant(r.try_get(7)?),
        finished_at: r.try_get::<_, Option<i64>>(8)?.map(instant),
        exit_code: r.try_get(9)?,
        cancelled_by: r.try_get(10)?,
        claims: claims_of(&claims),
        record: if record { r.try_get(12)? } else { None },
        events: None,
    })
}
