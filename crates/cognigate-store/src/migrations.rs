//! The migrations, embedded in the binary and applied with sqlx's migrator (its version table, checksums and
//! locking), one folder per dialect.

use std::borrow::Cow;

use cognigate_engine::store::StoreError;
use sqlx::AnyPool;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Dialect;

// Append only: an applied migration is never edited (the migrator checks checksums), a change is a new file.
const SQLITE: &[(i64, &str, &str)] = &[
    (1, "engine", include_str!("../migrations/sqlite/0001_engine.sql")),
    (2, "service", include_str!("../migrations/sqlite/0002_service.sql")),
    (3, "teams", include_str!("../migrations/sqlite/0003_teams.sql")),
    (4, "security", include_str!("../migrations/sqlite/0004_security.sql")),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "engine", include_str!("../migrations/postgres/0001_engine.sql")),
    (2, "service", include_str!("../migrations/postgres/0002_service.sql")),
    (3, "teams", include_str!("../migrations/postgres/0003_teams.sql")),
    (4, "security", include_str!("../migrations/postgres/0004_security.sql")),
];

#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>>
    {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        sqlx::SqlSafeStr::into_sql_str(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub async fn run(pool: &AnyPool, dialect: Dialect) -> Result<(), StoreError> {
    let source = match dialect {
        Dialect::Sqlite => Embedded(SQLITE),
        Dialect::Postgres => Embedded(POSTGRES),
    };
    let migrator = Migrator::new(source).await.map_err(|error| StoreError::Backend(error.to_string()))?;
    migrator.run(pool).await.map_err(|error| StoreError::Backend(format!("migration failed: {error}")))
}
