"""API keys: shown once, stored only as hashes, revocable, checked in constant time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from serving.cli import partners_app
from serving.keys import KeyStore, add_key, keys_db_path, list_keys, revoke


def test_key_round_trip_and_hash_only_storage(tmp_path: Path) -> None:
    key = add_key(tmp_path, "4000001")
    admin = add_key(tmp_path, "", admin=True)
    db = keys_db_path(tmp_path)
    assert db == tmp_path / "serving" / "keys.sqlite"
    store = KeyStore(db)
    p = store.verify(key)
    assert p is not None and p.partner == "4000001" and not p.admin
    assert p.can_read("4000001") and not p.can_read("4000002")
    pa = store.verify(admin)
    assert pa is not None and pa.admin and pa.can_read("anything")
    # the secret is nowhere in the database file, only its SHA-256
    secret = key.split("_", 2)[2]
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("keys.sqlite-*"))
    assert secret.encode() not in raw
    rows = sqlite3.connect(db).execute("SELECT secret_hash FROM api_keys").fetchall()
    assert all(len(r[0]) == 64 for r in rows)


def test_wrong_malformed_and_revoked_keys_are_refused(tmp_path: Path) -> None:
    key = add_key(tmp_path, "4000001")
    store = KeyStore(keys_db_path(tmp_path))
    key_id, secret = key.split("_", 2)[1:]
    for bad in (None, "", "nonsense", f"pk_{key_id}_{secret}x", f"pk_{key_id}_",
                f"pk_000000000000_{secret}", key.upper()):
        assert store.verify(bad) is None, bad
    assert revoke(tmp_path, key_or_id=key_id) == 1
    assert store.verify(key) is None  # the next check sees it: no restart
    assert revoke(tmp_path, key_or_id=key_id) == 0


def test_revoke_every_key_of_a_partner(tmp_path: Path) -> None:
    k1, k2 = add_key(tmp_path, "G1"), add_key(tmp_path, "G1")
    other = add_key(tmp_path, "G2")
    assert revoke(tmp_path, partner="G1") == 2
    store = KeyStore(keys_db_path(tmp_path))
    assert store.verify(k1) is None and store.verify(k2) is None
    assert store.verify(other) is not None
    assert [k.partner for k in list_keys(tmp_path) if k.revoked_at is None] == ["G2"]


def test_cli_add_revoke_list(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(partners_app, ["add-key", "--partner", "4000001", "--lake",
                                       str(tmp_path)])
    assert res.exit_code == 0, res.output
    key = res.output.strip()
    assert key.startswith("pk_") and len(key) > 40
    res = runner.invoke(partners_app, ["add-key", "--admin", "--lake", str(tmp_path)])
    assert res.exit_code == 0 and res.output.strip().startswith("pk_")
    res = runner.invoke(partners_app, ["list", "--lake", str(tmp_path)])
    assert res.exit_code == 0
    assert "partner 4000001" in res.output and "admin" in res.output
    assert key.split("_", 2)[2] not in res.output  # never the secret
    res = runner.invoke(partners_app, ["revoke", key, "--lake", str(tmp_path)])
    assert res.exit_code == 0 and "revoked 1" in res.output
    assert "revoked" in runner.invoke(partners_app, ["list", "--lake", str(tmp_path)]).output
    res = runner.invoke(partners_app, ["add-key", "--lake", str(tmp_path)])
    assert res.exit_code != 0  # a partner key needs --partner
