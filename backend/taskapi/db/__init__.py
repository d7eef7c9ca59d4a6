"""The database: engine, pool and units of work; the embedded Postgres of local mode."""
