-- Run once by the PostgreSQL container on first start (docker-entrypoint-initdb.d).
-- The schema itself is NOT created here: it belongs to the Alembic migrations, applied by
--     python scripts/init_db.py
-- This file only sets database-level defaults the service expects.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
    EXECUTE format('ALTER DATABASE %I SET statement_timeout TO %L', current_database(), '60s');
END
$$;
