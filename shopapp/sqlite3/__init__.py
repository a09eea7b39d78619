"""Django's SQLite backend, making the database file's folder on first connect (base.py)."""
