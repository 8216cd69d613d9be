"""Engine and sessions for the configured database (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from greenpark.store import guard

guard.install()


def make_engine(url: str, durable: bool = False) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout. ``durable`` makes every
    SQLite commit reach the disk before it returns (synchronous=FULL: survives power loss, not only
    a crash), as the HJ 212 writer needs before it acknowledges."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")  # up to 64 MiB of pages per connection (default 2 MiB)
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


_ENGINES: dict[str, Engine] = {}
_LOCK = Lock()


def engine_for(url: str) -> Engine:
    """The process's engine for ``url`` (created once, kept until :func:`dispose_engine`)."""
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = make_engine(url)
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections to ``url`` and forget its engine."""
    with _LOCK:
        engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def wal_checkpoint(engine: Engine, min_bytes: int = 16 << 20) -> bool:
    """Copy SQLite's write-ahead log back into the database once it holds ``min_bytes``, without
    blocking writers (PASSIVE). Returns whether it ran; a no-op elsewhere than on a SQLite file.

    The HJ 212 server runs this from a background thread: left to SQLite, the checkpoint happens
    inside some commit, and every device waits for it (seconds, at tens of MB)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return False
    wal = Path(engine.url.database + "-wal")
    try:
        if wal.stat().st_size < min_bytes:
            return False
    except FileNotFoundError:
        return False
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    return True


def hold(session: Session, row: Any) -> None:
    """Take ``row``'s write lock until the transaction ends, and reload it: what the caller checks
    next is what others committed, so two clicks of one button (or two users) do one thing.

    A no-op ``UPDATE`` of the row: PostgreSQL locks the row (as ``SELECT … FOR UPDATE``); SQLite
    takes the database's write lock (the busy timeout makes the second caller wait)."""
    model = type(row)
    session.execute(
        update(model)
        .where(model.id == row.id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
