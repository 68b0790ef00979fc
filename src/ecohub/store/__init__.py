"""Storage: schema, migrations, the one batching writer, and the query layer (SQLite and PostgreSQL + PostGIS)."""
