"""Storage: SQLAlchemy models, Alembic migrations, accounts, sessions, decisions and the audit log.

SQLite by default (`<data_dir>/entitle.db`), PostgreSQL in production (`ENTITLE_DATABASE_URL`).
Functions take a SQLAlchemy `Session` and flush but never commit (one exception:
`users.authenticate` commits a failed attempt so the lock-out counter survives): the caller
commits once per request, so an action and its audit entry land together or not at all.
"""
