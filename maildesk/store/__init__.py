"""The database, one module per table, Core statements; models, engine, blobs and migrations.

The only owner of SQLAlchemy and Alembic, and the only package that sees an ORM model.
"""
