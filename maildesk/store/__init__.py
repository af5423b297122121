"""The database: models, engine and sessions, blobs, migrations. The only owner of SQLAlchemy and Alembic."""
