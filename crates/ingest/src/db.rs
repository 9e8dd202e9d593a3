//! The small SQL surface the registry needs, over SQLite (always) and PostgreSQL (feature `postgres`).
//!
//! Statements are written once in SQLite's dialect with numbered parameters (`?1`); the PostgreSQL backend
//! rewrites them to `$1` and maps the few column types that differ in the schema. Transactions go through
//! [`Tx`], which rolls back when dropped uncommitted, so an error return never leaves a transaction open.

use crate::error::Error;

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u32> for Val {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Self::Blob(v)
    }
}

impl From<Option<f64>> for Val {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Self::Null, Self::Real)
    }
}

/// Builds a parameter list: `vals![a, b]`.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Val::from($v)),*][..] };
}
pub(crate) use vals;

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Val>);

fn bad(what: &'static str, v: &Val) -> Error {
    Error::Corrupt { what, detail: format!("{v:?}") }
}

impl Row {
    fn at(&self, i: usize) -> &Val {
        self.0.get(i).unwrap_or(&Val::Null)
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, Error> {
        match self.at(i) {
            Val::Int(n) => Ok(*n),
            v => Err(bad("integer column", v)),
        }
    }

    pub(crate) fn u32(&self, i: usize) -> Result<u32, Error> {
        let n = self.int(i)?;
        u32::try_from(n).map_err(|_| Error::Corrupt { what: "version number", detail: n.to_string() })
    }

    pub(crate) fn count(&self, i: usize) -> Result<u64, Error> {
        Ok(u64::try_from(self.int(i)?).unwrap_or(0))
    }

    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, Error> {
        match self.at(i) {
            Val::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub(crate) fn opt_real(&self, i: usize) -> Result<Option<f64>, Error> {
        match self.at(i) {
            Val::Null => Ok(None),
            Val::Real(r) => Ok(Some(*r)),
            Val::Int(n) => Ok(Some(*n as f64)),
            v => Err(bad("real column", v)),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String, Error> {
        match self.at(i) {
            Val::Text(s) => Ok(s.clone()),
            v => Err(bad("text column", v)),
        }
    }

    pub(crate) fn opt_blob(&self, i: usize) -> Result<Option<&[u8]>, Error> {
        match self.at(i) {
            Val::Null => Ok(None),
            Val::Blob(b) => Ok(Some(b)),
            v => Err(bad("blob column", v)),
        }
    }
}

/// A database the registry can live in.
pub(crate) trait Backend: Send + std::fmt::Debug {
    /// Runs statements without parameters (schema, transaction control).
    fn batch(&mut self, context: &'static str, sql: &str) -> Result<(), Error>;
    /// Runs one statement; returns the number of rows changed.
    fn exec(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<u64, Error>;
    /// Runs one query and returns all rows.
    fn query(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error>;
    /// The statement that starts a writing transaction.
    fn begin_write(&self) -> &'static str;
    /// The statement that starts a reading transaction that sees one snapshot for all its statements.
    fn begin_read(&self) -> &'static str;
    /// Takes the registry's writer lock without waiting; `false` when another connection holds it. The lock
    /// lives outside the registry's transactions and is released by [`Backend::unlock_writer`], or by the
    /// operating system or server when the process or connection ends.
    fn try_lock_writer(&mut self) -> Result<bool, Error>;
    /// Releases the writer lock taken by [`Backend::try_lock_writer`].
    fn unlock_writer(&mut self) -> Result<(), Error>;
    /// The registry's name in errors: a file path or a PostgreSQL schema.
    fn name(&self) -> String;
}

/// An open transaction; rolled back on drop unless committed.
pub(crate) struct Tx<'a> {
    db: &'a mut dyn Backend,
    open: bool,
}

impl<'a> Tx<'a> {
    pub(crate) fn write(db: &'a mut dyn Backend) -> Result<Self, Error> {
        let sql = db.begin_write();
        db.batch("starting a transaction", sql)?;
        Ok(Self { db, open: true })
    }

    pub(crate) fn read(db: &'a mut dyn Backend) -> Result<Self, Error> {
        let sql = db.begin_read();
        db.batch("starting a read", sql)?;
        Ok(Self { db, open: true })
    }

    pub(crate) fn exec(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<u64, Error> {
        self.db.exec(context, sql, params)
    }

    pub(crate) fn batch(&mut self, context: &'static str, sql: &str) -> Result<(), Error> {
        self.db.batch(context, sql)
    }

    pub(crate) fn query(
        &mut self,
        context: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<Row>, Error> {
        self.db.query(context, sql, params)
    }

    /// The first row, if any.
    pub(crate) fn row(
        &mut self,
        context: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Option<Row>, Error> {
        Ok(self.query(context, sql, params)?.into_iter().next())
    }

    /// The first row, which the statement always returns (aggregates).
    pub(crate) fn one(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<Row, Error> {
        self.row(context, sql, params)?
            .ok_or(Error::Corrupt { what: "aggregate query", detail: format!("no row while {context}") })
    }

    pub(crate) fn commit(mut self) -> Result<(), Error> {
        self.open = false;
        self.db.batch("committing", "COMMIT")
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort: if the rollback itself fails the connection is gone and so is the transaction.
            let _ = self.db.batch("rolling back", "ROLLBACK");
        }
    }
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS index_versions (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed', 'retired')),
    embedder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    recall REAL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'deleted', 'superseded')),
    indexed_at INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (id, version)
);
CREATE INDEX IF NOT EXISTS documents_validity ON documents (valid_from, valid_to);
CREATE TABLE IF NOT EXISTS chunks (
    hash TEXT NOT NULL,
    document TEXT NOT NULL,
    doc_version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (document, doc_version, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_validity ON chunks (valid_from, valid_to);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks (hash);
CREATE TABLE IF NOT EXISTS embeddings (
    hash TEXT NOT NULL,
    embedder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (hash, embedder)
);
CREATE TABLE IF NOT EXISTS version_schedule (
    version INTEGER PRIMARY KEY,
    live_from INTEGER NOT NULL,
    fallback INTEGER
);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    previous INTEGER,
    swapped_at INTEGER NOT NULL
);
";

/// SQLite through rusqlite (bundled), in WAL mode so readers never block on the writer.
#[derive(Debug)]
pub(crate) struct Sqlite {
    conn: rusqlite::Connection,
    /// The database file; `None` in memory, where the one connection is the only possible writer.
    path: Option<std::path::PathBuf>,
    /// While this registry holds the writer lock: a connection to the lock file inside an exclusive transaction.
    writer: Option<rusqlite::Connection>,
}

/// The writer-lock file next to a registry database: an empty SQLite database, locked exclusively by the
/// writer. SQLite's own file locking makes this work across processes and between connections of one process,
/// and the operating system drops the lock when the process dies.
fn writer_lock_path(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-writer");
    std::path::PathBuf::from(name)
}

fn sqlite_err(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| Error::Db { context, source: Box::new(e) }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(n) => ValueRef::Integer(*n),
            Val::Real(r) => ValueRef::Real(*r),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Sqlite {
    pub(crate) fn open(path: Option<&std::path::Path>) -> Result<Self, Error> {
        let conn = match path {
            Some(p) => rusqlite::Connection::open(p),
            None => rusqlite::Connection::open_in_memory(),
        }
        .map_err(sqlite_err("opening the database"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sqlite_err("setting the busy timeout"))?;
        // journal_mode returns a row, so it goes through query_row.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(sqlite_err("enabling write-ahead logging"))?;
        conn.execute_batch("PRAGMA synchronous = FULL;").map_err(sqlite_err("setting synchronous mode"))?;
        conn.execute_batch(SCHEMA).map_err(sqlite_err("creating the schema"))?;
        Ok(Self { conn, path: path.map(std::path::Path::to_path_buf), writer: None })
    }
}

impl Backend for Sqlite {
    fn batch(&mut self, context: &'static str, sql: &str) -> Result<(), Error> {
        self.conn.execute_batch(sql).map_err(sqlite_err(context))
    }

    fn exec(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<u64, Error> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err(context))?;
        let n = stmt.execute(rusqlite::params_from_iter(params)).map_err(sqlite_err(context))?;
        Ok(n as u64)
    }

    fn query(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err(context))?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(sqlite_err(context))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sqlite_err(context))? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i).map_err(sqlite_err(context))? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(n) => Val::Int(n),
                    ValueRef::Real(x) => Val::Real(x),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Blob(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn begin_write(&self) -> &'static str {
        // IMMEDIATE takes the write lock up front, so a reader's snapshot never forces the writer to retry.
        "BEGIN IMMEDIATE"
    }

    fn begin_read(&self) -> &'static str {
        "BEGIN"
    }

    fn try_lock_writer(&mut self) -> Result<bool, Error> {
        let Some(path) = &self.path else { return Ok(true) };
        if self.writer.is_some() {
            return Ok(true);
        }
        let lock = rusqlite::Connection::open(writer_lock_path(path))
            .map_err(sqlite_err("opening the writer lock file"))?;
        lock.busy_timeout(std::time::Duration::ZERO).map_err(sqlite_err("setting the busy timeout"))?;
        match lock.execute_batch("BEGIN EXCLUSIVE") {
            Ok(()) => {
                self.writer = Some(lock);
                Ok(true)
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(sqlite_err("taking the writer lock")(e)),
        }
    }

    fn unlock_writer(&mut self) -> Result<(), Error> {
        // Closing the connection ends its transaction and releases the file lock.
        match self.writer.take() {
            Some(lock) => lock.close().map_err(|(_, e)| sqlite_err("releasing the writer lock")(e)),
            None => Ok(()),
        }
    }

    fn name(&self) -> String {
        self.path.as_ref().map_or_else(|| "in memory".to_owned(), |p| p.display().to_string())
    }
}

#[cfg(feature = "postgres")]
pub(crate) use pg::Postgres;

#[cfg(feature = "postgres")]
mod pg {
    use std::collections::HashMap;

    use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

    use super::{Backend, Row, SCHEMA, Val};
    use crate::error::Error;

    /// PostgreSQL through the synchronous `postgres` client; each registry lives in its own schema.
    pub(crate) struct Postgres {
        client: postgres::Client,
        statements: HashMap<String, postgres::Statement>,
        /// The schema name as PostgreSQL stores it (unquoted identifiers are folded to lower case).
        schema: String,
        /// Whether this connection holds the writer lock.
        writer: bool,
    }

    impl std::fmt::Debug for Postgres {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Postgres")
                .field("schema", &self.schema)
                .field("statements", &self.statements.len())
                .field("writer", &self.writer)
                .finish()
        }
    }

    fn pg_err(context: &'static str) -> impl FnOnce(postgres::Error) -> Error {
        move |e| Error::Db { context, source: Box::new(e) }
    }

    impl ToSql for Val {
        fn to_sql(
            &self,
            ty: &Type,
            out: &mut postgres::types::private::BytesMut,
        ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
            match self {
                Val::Null => Ok(IsNull::Yes),
                Val::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Val::Int(n) if *ty == Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Val::Int(n) => n.to_sql(ty, out),
                Val::Real(r) => r.to_sql(ty, out),
                Val::Text(s) => s.as_str().to_sql(ty, out),
                Val::Blob(b) => b.as_slice().to_sql(ty, out),
            }
        }

        fn accepts(_: &Type) -> bool {
            true
        }

        to_sql_checked!();
    }

    /// The tables and indexes [`SCHEMA`] creates, by name.
    fn schema_objects() -> impl Iterator<Item = &'static str> {
        SCHEMA.split("IF NOT EXISTS").skip(1).filter_map(|rest| rest.split_whitespace().next())
    }

    /// `?1` -> `$1`; the registry's SQL has no `?` inside string literals.
    fn dollar_params(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
                out.push('$');
            } else {
                out.push(c);
            }
        }
        out
    }

    impl Postgres {
        /// Connects and creates the registry tables in `schema` (created when missing).
        pub(crate) fn connect(url: &str, schema: &str) -> Result<Self, Error> {
            if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::Corrupt { what: "schema name", detail: schema.to_owned() });
            }
            let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(pg_err("connecting"))?;
            // `CREATE INDEX IF NOT EXISTS` locks its table even when the index exists, and holds that lock
            // until the end of the schema transaction: run against a registry a writer is changing, it waits
            // for the writer or deadlocks with it. So the DDL runs only when an object is missing, which a
            // catalog lookup (no table locks) tells.
            let names: Vec<&str> = schema_objects().collect();
            // Unquoted identifiers are folded to lower case.
            let folded = schema.to_ascii_lowercase();
            let found = client
                .query_one(
                    "SELECT COUNT(*) FROM pg_catalog.pg_class c
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = ANY($2)",
                    &[&folded, &names],
                )
                .and_then(|row| row.try_get::<_, i64>(0))
                .map_err(pg_err("looking up the schema"))?;
            if usize::try_from(found).is_ok_and(|n| n == names.len()) {
                client
                    .batch_execute(&format!("SET search_path TO {schema}"))
                    .map_err(pg_err("connecting"))?;
            } else {
                let ddl = SCHEMA
                    .replace("INTEGER", "BIGINT")
                    .replace("BLOB", "BYTEA")
                    .replace("REAL", "DOUBLE PRECISION");
                // Concurrent first opens of one schema take turns, so neither trips over the other's tables.
                client
                    .batch_execute(&format!(
                        "BEGIN;
                         SELECT pg_advisory_xact_lock(hashtextextended('agentry-ingest schema {schema}', 0));
                         CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}; {ddl}
                         COMMIT;"
                    ))
                    .map_err(pg_err("creating the schema"))?;
            }
            Ok(Self { client, statements: HashMap::new(), schema: folded, writer: false })
        }

        fn statement(&mut self, context: &'static str, sql: &str) -> Result<postgres::Statement, Error> {
            if let Some(s) = self.statements.get(sql) {
                return Ok(s.clone());
            }
            let s = self.client.prepare(&dollar_params(sql)).map_err(pg_err(context))?;
            self.statements.insert(sql.to_owned(), s.clone());
            Ok(s)
        }
    }

    impl Backend for Postgres {
        fn batch(&mut self, context: &'static str, sql: &str) -> Result<(), Error> {
            self.client.batch_execute(sql).map_err(pg_err(context))
        }

        fn exec(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<u64, Error> {
            let stmt = self.statement(context, sql)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            self.client.execute(&stmt, &refs).map_err(pg_err(context))
        }

        fn query(&mut self, context: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error> {
            let stmt = self.statement(context, sql)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let rows = self.client.query(&stmt, &refs).map_err(pg_err(context))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut row = Vec::with_capacity(r.len());
                for (i, col) in r.columns().iter().enumerate() {
                    let ty = col.type_();
                    let v = if *ty == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Val::Null, Val::Int))
                    } else if *ty == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i)
                            .map(|v| v.map_or(Val::Null, |n| Val::Int(i64::from(n))))
                    } else if *ty == Type::FLOAT8 {
                        r.try_get::<_, Option<f64>>(i).map(|v| v.map_or(Val::Null, Val::Real))
                    } else if *ty == Type::BYTEA {
                        r.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map_or(Val::Null, Val::Blob))
                    } else {
                        r.try_get::<_, Option<String>>(i).map(|v| v.map_or(Val::Null, Val::Text))
                    };
                    row.push(v.map_err(pg_err(context))?);
                }
                out.push(Row(row));
            }
            Ok(out)
        }

        fn begin_write(&self) -> &'static str {
            "BEGIN"
        }

        fn begin_read(&self) -> &'static str {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        }

        fn try_lock_writer(&mut self) -> Result<bool, Error> {
            if self.writer {
                return Ok(true);
            }
            // A session-level advisory lock: not tied to a transaction, released when the connection ends.
            let row = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtextextended('agentry-ingest writer ' || $1, 0))",
                    &[&self.schema],
                )
                .map_err(pg_err("taking the writer lock"))?;
            self.writer = row.try_get::<_, bool>(0).map_err(pg_err("taking the writer lock"))?;
            Ok(self.writer)
        }

        fn unlock_writer(&mut self) -> Result<(), Error> {
            if !self.writer {
                return Ok(());
            }
            self.writer = false;
            self.client
                .query_one(
                    "SELECT pg_advisory_unlock(hashtextextended('agentry-ingest writer ' || $1, 0))",
                    &[&self.schema],
                )
                .map_err(pg_err("releasing the writer lock"))?;
            Ok(())
        }

        fn name(&self) -> String {
            format!("schema {}", self.schema)
        }
    }
}
