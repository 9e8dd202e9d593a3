//! `CREATE VIEW` over the safe columns, for DuckDB, SQLite and PostgreSQL.

use std::{fmt, str::FromStr};

/// A view that cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// No column passed, and a view needs at least one.
    #[error("no column passed the policy, so view {view:?} would select nothing")]
    NoSafeColumns {
        /// The view name asked for.
        view: String,
    },
    /// An identifier the dialect cannot hold.
    #[error("identifier {identifier:?} is not valid in {dialect}: {message}")]
    Identifier {
        /// The identifier.
        identifier: String,
        /// The dialect.
        dialect: SqlDialect,
        /// Why.
        message: &'static str,
    },
    /// A dialect name that is not one of `duckdb`, `sqlite`, `postgres`.
    #[error("unknown SQL dialect {0:?} (expected duckdb, sqlite or postgres)")]
    UnknownDialect(String),
}

/// The SQL dialects a view can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    /// DuckDB.
    DuckDb,
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DuckDb => "duckdb",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

impl FromStr for SqlDialect {
    type Err = ViewError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "duckdb" => Ok(Self::DuckDb),
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(ViewError::UnknownDialect(s.to_owned())),
        }
    }
}

/// PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 = 63 bytes (PostgreSQL docs, "Identifiers
/// and Key Words"); a silently truncated column name would select a different column or fail, so it is an error.
const PG_MAX_IDENT: usize = 63;

/// Quotes one identifier for a dialect: all three use SQL-standard double quotes with embedded quotes
/// doubled, which also keeps case (PostgreSQL folds unquoted names to lower case) and keywords literal.
pub fn quote_ident(ident: &str, dialect: SqlDialect) -> Result<String, ViewError> {
    let bad = |message| ViewError::Identifier { identifier: ident.to_owned(), dialect, message };
    if ident.is_empty() {
        return Err(bad("empty identifier"));
    }
    if ident.contains('\0') {
        return Err(bad("contains a NUL character"));
    }
    if dialect == SqlDialect::Postgres && ident.len() > PG_MAX_IDENT {
        return Err(bad("longer than 63 bytes, which PostgreSQL would truncate"));
    }
    Ok(format!("\"{}\"", ident.replace('"', "\"\"")))
}

/// Quotes a possibly schema-qualified name (`analytics.users_safe`): each dot-separated part is quoted.
fn quote_qualified(name: &str, dialect: SqlDialect) -> Result<String, ViewError> {
    let parts = name.split('.').map(|p| quote_ident(p, dialect)).collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("."))
}

/// The statement(s) that (re)create `view` as a projection of `columns` from `source`. `view` and `source`
/// may be schema-qualified with dots; column names are quoted whole. DuckDB gets `CREATE OR REPLACE VIEW`;
/// SQLite has no `OR REPLACE` for views and PostgreSQL's cannot drop columns, so both get
/// `DROP VIEW IF EXISTS` then `CREATE VIEW`.
pub fn create_view_sql(
    view: &str,
    source: &str,
    columns: &[&str],
    dialect: SqlDialect,
) -> Result<String, ViewError> {
    if columns.is_empty() {
        return Err(ViewError::NoSafeColumns { view: view.to_owned() });
    }
    let v = quote_qualified(view, dialect)?;
    let s = quote_qualified(source, dialect)?;
    let cols = columns.iter().map(|c| quote_ident(c, dialect)).collect::<Result<Vec<_>, _>>()?;
    let select = format!("SELECT\n  {}\nFROM {s};", cols.join(",\n  "));
    Ok(match dialect {
        SqlDialect::DuckDb => format!("CREATE OR REPLACE VIEW {v} AS\n{select}\n"),
        SqlDialect::Sqlite | SqlDialect::Postgres => {
            format!("DROP VIEW IF EXISTS {v};\nCREATE VIEW {v} AS\n{select}\n")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ident: &str, dialect: SqlDialect, expected: Option<&str>) {
        assert_eq!(quote_ident(ident, dialect).ok().as_deref(), expected, "{ident:?}");
    }

    #[test]
    fn plain() {
        check("id", SqlDialect::Sqlite, Some("\"id\""));
    }
    #[test]
    fn embedded_quote() {
        check("a\"b", SqlDialect::DuckDb, Some("\"a\"\"b\""));
    }
    #[test]
    fn keyword_and_case() {
        check("Select", SqlDialect::Postgres, Some("\"Select\""));
    }
    #[test]
    fn nul() {
        check("a\0b", SqlDialect::Sqlite, None);
    }
    #[test]
    fn pg_length() {
        check(&"x".repeat(63), SqlDialect::Postgres, Some(&format!("\"{}\"", "x".repeat(63))));
        check(&"x".repeat(64), SqlDialect::Postgres, None);
        assert!(quote_ident(&"x".repeat(64), SqlDialect::DuckDb).is_ok());
    }
    #[test]
    fn view_statement() {
        let sql = create_view_sql("analytics.safe", "raw", &["id", "kyc status"], SqlDialect::Sqlite)
            .expect("valid");
        assert_eq!(
            sql,
            "DROP VIEW IF EXISTS \"analytics\".\"safe\";\nCREATE VIEW \"analytics\".\"safe\" AS\nSELECT\n  \"id\",\n  \"kyc status\"\nFROM \"raw\";\n"
        );
    }
    #[test]
    fn empty_view() {
        assert!(matches!(
            create_view_sql("v", "t", &[], SqlDialect::DuckDb),
            Err(ViewError::NoSafeColumns { .. })
        ));
    }
    #[test]
    fn dialect_names() {
        assert_eq!("PostgreSQL".parse::<SqlDialect>().ok(), Some(SqlDialect::Postgres));
        assert!("mysql".parse::<SqlDialect>().is_err());
    }
}
