//! A throwaway PostgreSQL cluster for a benchmark (scripts/pg-cluster: initdb in /tmp, Unix
//! socket only), removed on drop, and empty databases in it.

const PG_CLUSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster");

pub struct Cluster {
    dir: String,
    admin: String,
}

impl Cluster {
    pub fn start(name: &str) -> Cluster {
        let dir = format!("/tmp/agora-bench-{name}-{}", std::process::id());
        let out = std::process::Command::new(PG_CLUSTER).args(["start", &dir]).output().expect("pg-cluster runs");
        assert!(out.status.success(), "pg-cluster: {}", String::from_utf8_lossy(&out.stderr));
        Cluster { dir, admin: String::from_utf8(out.stdout).expect("utf-8").trim().to_string() }
    }

    /// Creates the empty database `name` and answers its URL.
    pub async fn database(&self, name: &str) -> String {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.expect("cluster answers");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.expect("create");
        self.admin.replacen("/postgres?", &format!("/{name}?"), 1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(PG_CLUSTER).args(["stop", &self.dir]).output();
    }
}
