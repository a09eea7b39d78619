"""Django's SQLite backend, which first makes the folder of the database file and runs it in WAL.

The development default keeps SQLite under `var/`, which a fresh clone does not have; the settings
create nothing when imported, so the folder is made here, where the file is first written.

The demo, the benchmarks and the integration tests share the file between the web tier and the
workers: in write-ahead-log mode readers never wait for the writer, and with `synchronous=NORMAL`
a commit does not wait for the disk (a power cut may lose the last commits, never corrupt the
file: acceptable for the development database, which production replaces with PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        name = str(conn_params["database"])
        # An in-memory database, or a `file:` URI, names no folder of ours to make.
        if name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        connection = super().get_new_connection(conn_params)
        if name != ":memory:" and not name.startswith("file:"):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        return connection
