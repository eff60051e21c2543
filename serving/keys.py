"""Partner API keys: made once, shown once, stored only as hashes in SQLite.

A key reads ``pk_<key id>_<secret>``. The key id (public, 12 hex characters) finds the row;
the secret (32 random bytes, URL-safe base64) is never stored: only its SHA-256 is, and the
check compares digests with :func:`hmac.compare_digest` (constant time). A plain hash is
enough because secrets are random 256-bit strings, not passwords a person chose, so there
is nothing to guess by dictionary. A partner key reads one partner; an admin key (for data
scientists) reads any partner and must name the one it reads.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from propensity.lake import Lake

ADMIN = "*"
_PREFIX = "pk"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    admin       INTEGER NOT NULL DEFAULT 0,
    secret_hash TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_partner ON api_keys (partner);
"""


@dataclass(frozen=True)
class Principal:
    """Who a valid key belongs to: one partner, or an admin (``partner == "*"``)."""

    key_id: str
    partner: str
    admin: bool

    def can_read(self, partner: str) -> bool:
        return self.admin or hmac.compare_digest(self.partner.encode(), partner.encode())


@dataclass(frozen=True)
class KeyInfo:
    """A key's public record (never its secret)."""

    key_id: str
    partner: str
    admin: bool
    label: str
    created_at: str
    revoked_at: str | None


def keys_db_path(lake_or_db: str | os.PathLike[str] | Lake, keys_db: Path | None = None) -> Path:
    """The key database: ``keys_db`` if set, a ``.sqlite`` path as given, else
    ``<lake>/serving/keys.sqlite``."""
    if keys_db is not None:
        return Path(keys_db)
    if isinstance(lake_or_db, Lake):
        return lake_or_db.root / "serving" / "keys.sqlite"
    p = Path(lake_or_db)
    if p.suffix in (".sqlite", ".db", ".sqlite3"):
        return p
    return p / "serving" / "keys.sqlite"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _connect(db: Path, create: bool) -> sqlite3.Connection:
    if create:
        db.parent.mkdir(parents=True, exist_ok=True)
    elif not db.exists():
        raise FileNotFoundError(f"no key database at {db}: add a key first")
    con = sqlite3.connect(db, timeout=10)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(_SCHEMA)
    return con


def add_key(lake_or_db: str | os.PathLike[str] | Lake, partner: str, admin: bool = False,
            label: str = "") -> str:
    """Make a key for ``partner`` (or an admin key when ``admin``) and return it.

    The returned string is the only copy of the secret: store it; it cannot be shown again.
    """
    partner = partner.strip()
    if admin:
        partner = ADMIN
    elif not partner or partner == ADMIN:
        raise ValueError("a partner key needs the partner's GlobalID")
    db = keys_db_path(lake_or_db)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with _connect(db, create=True) as con:
        con.execute(
            "INSERT INTO api_keys (key_id, partner, admin, secret_hash, label, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, partner, int(admin), _hash(secret), label, now),
        )
    con.close()
    return f"{_PREFIX}_{key_id}_{secret}"


def revoke(lake_or_db: str | os.PathLike[str] | Lake, key_or_id: str | None = None,
           partner: str | None = None) -> int:
    """Revoke one key (by the key itself or its id) or every key of ``partner``.

    Returns the number of keys revoked (0 if none matched or all were already revoked).
    """
    if (key_or_id is None) == (partner is None):
        raise ValueError("give exactly one of a key (or key id) and a partner")
    db = keys_db_path(lake_or_db)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with _connect(db, create=False) as con:
        if key_or_id is not None:
            key_id = _split(key_or_id)[0] if key_or_id.startswith(f"{_PREFIX}_") else key_or_id
            cur = con.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND "
                              "revoked_at IS NULL", (now, key_id))
        else:
            cur = con.execute("UPDATE api_keys SET revoked_at = ? WHERE partner = ? AND "
                              "revoked_at IS NULL", (now, partner))
        n = cur.rowcount
    con.close()
    return n


def list_keys(lake_or_db: str | os.PathLike[str] | Lake,
              partner: str | None = None) -> list[KeyInfo]:
    """Every key's public record, oldest first (optionally of one partner)."""
    db = keys_db_path(lake_or_db)
    if not db.exists():
        return []
    con = _connect(db, create=False)
    try:
        sql = ("SELECT key_id, partner, admin, label, created_at, revoked_at FROM api_keys"
               + (" WHERE partner = ?" if partner else "") + " ORDER BY created_at, key_id")
        rows = con.execute(sql, (partner,) if partner else ()).fetchall()
    finally:
        con.close()
    return [KeyInfo(r[0], r[1], bool(r[2]), r[3], r[4], r[5]) for r in rows]


def _split(key: str) -> tuple[str, str]:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        raise ValueError("malformed key")
    return parts[1], parts[2]


class KeyStore:
    """Read side of the key database, for the service: verifies presented keys.

    Each check reads SQLite (a primary-key look-up, well under a millisecond), so a key
    revoked on the command line is refused by the very next request, with no restart.
    """

    def __init__(self, db: Path) -> None:
        self.db = Path(db)
        self._con: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection | None:
        if self._con is None:
            if not self.db.exists():
                return None
            self._con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True,
                                        check_same_thread=False, timeout=5)
        return self._con

    def verify(self, key: str | None) -> Principal | None:
        """The principal of a valid, unrevoked ``key``; ``None`` for anything else."""
        if not key:
            return None
        try:
            key_id, secret = _split(key.strip())
        except ValueError:
            return None
        con = self._connection()
        if con is None:
            return None
        try:
            row = con.execute("SELECT partner, admin, secret_hash, revoked_at FROM api_keys "
                              "WHERE key_id = ?", (key_id,)).fetchone()
        except sqlite3.Error:
            # the file was replaced or is being created: reopen next time
            self._con = None
            return None
        # hash and compare even when the id is unknown, so timing does not tell ids apart
        expected = row[2] if row else "0" * 64
        ok = hmac.compare_digest(_hash(secret).encode(), expected.encode())
        if row is None or not ok or row[3] is not None:
            return None
        return Principal(key_id=key_id, partner=row[0], admin=bool(row[1]))
