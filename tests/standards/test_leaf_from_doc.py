"""Leaves recomputed from docs/audit.md, "A leaf, byte by byte", alone.

Everything below the imports was written from that section, as an auditor would: it does not
import Deelwijs. The database is built by the `deelwijs` command (`demo`), as a deployment
would build it; the rows are read with the plain database driver (sqlite3, psycopg), every
leaf hash is recomputed from its row and compared with the stored one, and every checkpoint's
root is recomputed from the leaves (RFC 6962). On SQLite by default; on PostgreSQL too when
DEELWIJS_TEST_DATABASE_URL names a server (a database of its own is made and dropped). The
section's test vectors are checked first, and must stand in the document word for word."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import sqlite3
import subprocess
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


# --- from the document ---------------------------------------------------------------------


def registered_text(value) -> str:
    """Field 6: YYYY-MM-DDTHH:MM:SS, then '.' and six digits only when the microseconds are
    not zero. SQLite gives text with a space and always six digits, PostgreSQL a datetime."""
    if isinstance(value, str):
        value = dt.datetime.strptime(value.replace("T", " "), "%Y-%m-%d %H:%M:%S.%f"
                                     if "." in value else "%Y-%m-%d %H:%M:%S")
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}" if value.microsecond else "")


def leaf_bytes(region_id, seq, actie_id, subject, activity_id, registered, body) -> bytes:
    """D: seven fields, a line feed after each but the last; UTF-8."""
    fields = [str(int(region_id)), str(int(seq)), actie_id, subject or "", activity_id,
              registered_text(registered), body]
    return "\n".join(fields).encode("utf-8")


def leaf_hash(d: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + d).digest()


def root(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1: the first k leaves on the left, k the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + root(leaves[:k]) + root(leaves[k:])).digest()


# --- the document's test vectors ------------------------------------------------------------

VECTOR_BODY = ('{"actie":"read","handelingNaam":"Inzien casus","leeg":null,"notitie":"Zoë",'
               '"status_code":1,"verwerkteObjecten":[{"objectId":"x"}]}')
VECTOR = (1, 7, "01890a5d-ac96-774b-bcce-b302099a8057", hashlib.sha256(b"voorbeeld").hexdigest(),
          "voorbeeldregio/oza")
VECTORS = [  # (registered, the first five fields, body, size of D, leaf hash)
    (dt.datetime(2026, 3, 2, 9, 30, 0, 123456), VECTOR, VECTOR_BODY, 283,
     "b5a96fc243153831c49200dc450d145f96403b6db9de435314d3453246b90488"),
    (dt.datetime(2026, 3, 2, 9, 30, 0), VECTOR, VECTOR_BODY, 276,
     "0f08ce2e2b3657c68262a5a36d103cc3dc63a0ae31f91063c532fdf212413f8f"),
    (dt.datetime(2026, 3, 2, 9, 30, 1, 5),
     (1, 8, "01890a5d-ac96-774b-bcce-b302099a8058", None, "voorbeeldregio/registratie"),
     '{"actie":"rekey"}', None,
     "06323ec571f6ac0dea52f5acb51a72df336ebb6122fbf34bd1ae07d228479ca2"),
]


def test_the_documents_test_vectors():
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index("## A leaf, byte by byte"):]
    section = section[:section.index("\n## ", 3)]
    assert VECTOR_BODY in section and VECTOR[3] in section
    hex_block = re.search(r"D is 283 bytes.*?```\n([0-9a-f\n]+)```", section, re.S)[1]
    first = leaf_bytes(*VECTOR, VECTORS[0][0], VECTOR_BODY)
    assert first.hex() == hex_block.replace("\n", "")
    for registered, fields, body, size, expected in VECTORS:
        d = leaf_bytes(*fields, registered, body)
        if size is not None:
            assert len(d) == size and f"{size} bytes" in section
        assert leaf_hash(d).hex() == expected and expected in section
    # the empty pseudonym: two line feeds in a row
    assert b"8058\n\nvoorbeeldregio/registratie\n" in leaf_bytes(*VECTORS[2][1], VECTORS[2][0],
                                                                 VECTORS[2][2])
    # SQLite's own text of the column is not the leaf's form
    assert registered_text("2026-03-02 09:30:00.000000") == "2026-03-02T09:30:00"
    assert registered_text("2026-03-02 09:30:01.000005") == "2026-03-02T09:30:01.000005"


# --- a database the project built -----------------------------------------------------------


def _run(script: Path, env: dict, cwd: Path, *args: str) -> None:
    proc = subprocess.run([str(script), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env["DEELWIJS_VAR"] = str(tmp_path / "var")
    return env


def _sqlite_rows(deelwijs_script, tmp_path):
    _run(deelwijs_script, _env(tmp_path), tmp_path, "demo", "--youths", "4")
    with sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3") as conn:
        return _read(conn)


def _read(conn) -> tuple[list[tuple], list[tuple]]:
    cur = conn.cursor()
    cur.execute("SELECT region_id, seq, actie_id, subject, activity_id, registered_at, body, "
                "leaf_hash FROM log_entry ORDER BY region_id, seq")
    entries = [tuple(r) for r in cur.fetchall()]
    cur.execute("SELECT region_id, size, root FROM log_checkpoint ORDER BY region_id, size")
    checkpoints = [tuple(r) for r in cur.fetchall()]
    return entries, checkpoints


def _postgres_rows(deelwijs_script, tmp_path, server: str):
    import psycopg

    name = f"deelwijs_leaf_{os.getpid()}_{secrets.token_hex(4)}"
    base = server.rsplit("/", 1)[0]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = _env(tmp_path)
        env["DEELWIJS_DATABASE_URL"] = f"{base}/{name}"
        env["DEELWIJS_MASTER_KEY"] = urlsafe_b64encode(secrets.token_bytes(32)).decode()
        _run(deelwijs_script, env, tmp_path, "db", "upgrade")
        _run(deelwijs_script, env, tmp_path, "demo", "--youths", "4")
        with psycopg.connect(f"{base}/{name}") as conn:
            return _read(conn)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def stored(request, deelwijs_script, tmp_path):
    if request.param == "sqlite":
        return _sqlite_rows(deelwijs_script, tmp_path)
    server = os.environ.get("DEELWIJS_TEST_DATABASE_URL", "").strip()
    if not server:
        pytest.skip("PostgreSQL: DEELWIJS_TEST_DATABASE_URL is not set")
    return _postgres_rows(deelwijs_script, tmp_path, server)


def test_every_leaf_and_checkpoint_root_recomputes_from_the_stored_rows(stored):
    entries, checkpoints = stored
    assert len(entries) > 10 and checkpoints
    leaves: dict[int, list[bytes]] = {}
    for region_id, seq, actie_id, subject, activity, registered, body, stored_leaf in entries:
        assert body is not None  # nothing of a fresh demo is past its term
        assert seq == len(leaves.setdefault(region_id, []))
        mine = leaf_hash(leaf_bytes(region_id, seq, actie_id, subject, activity, registered,
                                    body))
        assert mine == bytes(stored_leaf), (region_id, seq)
        leaves[region_id].append(mine)
    for region_id, size, signed_root in checkpoints:
        assert size <= len(leaves[region_id])
        assert root(leaves[region_id][:size]) == bytes(signed_root), (region_id, size)
    # and a one-byte change of any field gives another leaf
    region_id, seq, actie_id, subject, activity, registered, body, stored_leaf = entries[-1]
    assert leaf_hash(leaf_bytes(region_id, seq, actie_id, subject, activity, registered,
                                body + " ")) != bytes(stored_leaf)
