//! Integration tests of agentry-ingest, one binary with a module per area.

// First: its `on_every_backend!` runs a module's registry tests on SQLite and PostgreSQL.
#[macro_use]
mod registry;

mod batch;
mod cli;
mod columns;
mod crash;
#[cfg(feature = "hnsw")]
mod hnsw;
#[cfg(feature = "minilm")]
mod minilm;
mod props;
mod tracing_spans;

/// Shared helpers for the document-ingest tests.
mod common {
    use std::path::PathBuf;

    use agentry_ingest::{Registry, SourceDocument, SourceItem};
    use agentry_types::DocumentId;

    /// Where a test's registry lives; [`Store::open`] gives a new connection to the same registry each call.
    pub(crate) enum Store {
        /// The folder is kept only so it is deleted when the store is dropped.
        Sqlite { _dir: tempfile::TempDir, path: PathBuf },
        #[cfg(feature = "postgres")]
        Postgres { url: String, schema: String },
    }

    impl Store {
        /// A SQLite file in a fresh temporary folder.
        pub(crate) fn sqlite() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("registry.db");
            Self::Sqlite { _dir: dir, path }
        }

        /// A fresh schema in the database of `AGENTRY_PG_URL`, or `None` when the variable is unset.
        #[cfg(feature = "postgres")]
        pub(crate) fn postgres() -> Option<Self> {
            use std::sync::atomic::{AtomicU64, Ordering};
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let url = std::env::var("AGENTRY_PG_URL").ok()?;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let schema = format!("t{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            Some(Self::Postgres { url, schema })
        }

        pub(crate) fn open(&self) -> Registry {
            match self {
                Self::Sqlite { path, .. } => Registry::open(path).expect("open SQLite registry"),
                #[cfg(feature = "postgres")]
                Self::Postgres { url, schema } => {
                    Registry::open_postgres(url, schema).expect("open PostgreSQL registry")
                }
            }
        }

        /// Runs statements directly against the backend (to plant drift).
        pub(crate) fn raw(&self, sql: &str) {
            match self {
                Self::Sqlite { path, .. } => {
                    rusqlite::Connection::open(path).expect("raw open").execute_batch(sql).expect("raw SQL");
                }
                #[cfg(feature = "postgres")]
                Self::Postgres { url, schema } => {
                    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("raw connect");
                    c.batch_execute(&format!("SET search_path TO {schema}; {sql}")).expect("raw SQL");
                }
            }
        }

        /// A literal of the given bytes (hex) in the backend's dialect.
        pub(crate) fn blob_literal(&self, hex: &str) -> String {
            match self {
                Self::Sqlite { .. } => format!("x'{hex}'"),
                #[cfg(feature = "postgres")]
                Self::Postgres { .. } => format!("'\\x{hex}'::bytea"),
            }
        }
    }

    #[cfg(feature = "postgres")]
    impl Drop for Store {
        fn drop(&mut self) {
            if let Self::Postgres { url, schema } = self
                && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
            {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }

    /// Source items from `(id, text)` pairs.
    pub(crate) fn items(docs: &[(&str, &str)]) -> Vec<SourceItem> {
        docs.iter()
            .map(|(id, text)| {
                SourceItem::Document(SourceDocument {
                    id: DocumentId::new(*id).expect("test ids are valid"),
                    source: format!("test/{id}"),
                    text: (*text).to_owned(),
                })
            })
            .collect()
    }
}
