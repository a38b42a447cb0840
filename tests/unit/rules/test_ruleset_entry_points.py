"""One gate for every way a ruleset file comes in (contract 1.1, "Ruleset files": "There is no
path by which a file becomes a model: not `rules check`, not `decide --ruleset`, not storing
or activating a ruleset for a region").

The same refused files go through each entry point: `deelwijs rules check`, `deelwijs decide
--ruleset FILE`, `deelwijs region ruleset activate FILE` (the console script, in a
subprocess, on a real database) and the service function registry.activate_ruleset (in
process), which the command calls. Each must refuse with the problems loader.load_file
names (exit 2 on the command line, the same `file:line: [code] rule: message` lines), and
nothing may be stored: no ruleset version, no activation.

The database is a migrated SQLite file, or, with DEELWIJS_TEST_DATABASE_URL set, a fresh
PostgreSQL database of this module's own (created, migrated, dropped).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from tests.fixtures.cli import clean_env, run_script
from tests.fixtures.postgres import fresh_database, server_url, unique_name
from tests.services.helpers import unit_of

from deelwijs.rules import loader
from deelwijs.rules.loader import RulesetError
from deelwijs.services.app import open_app
from deelwijs.services.covenant import registry
from deelwijs.settings import Settings
from deelwijs.storage import db, orm

FOLDER = Path(__file__).resolve().parent / "bad_rulesets"
REFUSED = ["no_extends", "borrowed_id", "overleg_on_municipal", "relabel_party",
           "retention_longer", "alias_bomb", "merge_key", "yes_on_duplicate", "version_float",
           "list_for_mapping", "python_tag", "missing_rule"]
START = dt.date(2025, 1, 1)
REQUEST = {"discloser": {"party": "school"}, "recipient": {"party": "swv"},
           "subject": {"age": 9}, "purpose": "oza", "data": ["verzuim"]}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    """The refused files, and one too large to read (generated: 256 KiB are not committed)."""
    big = tmp_path_factory.mktemp("groot") / "too_large.yaml"
    text = (FOLDER / "relabel_party.yaml").read_text(encoding="utf-8")
    big.write_text(text + "#" * loader.MAX_BYTES + "\n", encoding="utf-8")
    return [FOLDER / f"{name}.yaml" for name in REFUSED] + [big]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A migrated database holding region `west` with voorbeeldregio active: its URL, its
    master key and a folder for DEELWIJS_VAR."""
    folder = tmp_path_factory.mktemp("store")
    with ExitStack() as stack:
        if server_url():
            url = stack.enter_context(fresh_database(unique_name("deelwijs_rules")))
        else:
            url = f"sqlite:///{folder / 'deelwijs.sqlite3'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        key = Fernet.generate_key()
        app = open_app(Settings(url, key))
        stack.callback(app.engine.dispose)
        with app.transaction() as s:
            u = unit_of(app, s)
            west = registry.create_region(u, "west", "Regio West")
            registry.activate_ruleset(u, west, "voorbeeldregio", START)
        yield {"url": url, "key": key, "app": app, "folder": folder}


def stored(app) -> tuple[int, int]:
    """How many ruleset versions and activations the database holds."""
    with app.transaction() as s:
        return (s.scalar(select(func.count()).select_from(orm.RulesetVersion)),
                s.scalar(select(func.count()).select_from(orm.RulesetActivation)))


def expected(path: Path) -> list[str]:
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    return [str(p) for p in exc.value.problems]


def test_every_refused_file_is_refused_the_same_way_by_the_service_functions(store, files):
    app = store["app"]
    before = stored(app)
    assert before[1] >= 1
    for path in files:
        want = expected(path)
        for activate in (registry.activate_ruleset,):
            with pytest.raises(RulesetError) as exc, app.transaction() as s:
                activate(unit_of(app, s), registry.region_by_code(s, "west"), str(path), START)
            assert [str(p) for p in exc.value.problems] == want, (path.name, activate)
        assert stored(app) == before, path.name


def test_every_refused_file_is_refused_the_same_way_by_every_command(store, files,
                                                                      deelwijs_script):
    env = clean_env(DEELWIJS_VAR=str(store["folder"]), DEELWIJS_DATABASE_URL=store["url"],
                    DEELWIJS_MASTER_KEY=store["key"].decode(), PYTHONIOENCODING="utf-8")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return run_script(deelwijs_script, *args, stdin=stdin, env=env, cwd=store["folder"])

    before = stored(store["app"])
    each = [(path, ("decide", "--ruleset", path)) for path in files] + [
        (path, ("region", "ruleset", "activate", path, "--region", "west")) for path in files]
    commands = [("rules", "check", "--json", *files)] + [args for _, args in each]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda args: run(*args, stdin=json.dumps(REQUEST)), commands))

    check, rest = runs[0], runs[1:]
    assert (check.returncode, check.stderr) == (2, "")
    report = json.loads(check.stdout)
    for path in files:
        want = expected(path)
        got = [str(loader.RulesetProblem(**p)) for p in report if p["file"] == str(path)]
        assert got == want, path.name
    for (path, (command, *_)), proc in zip(each, rest, strict=True):
        assert proc.returncode == 2, (command, path.name, proc.stdout, proc.stderr)
        assert proc.stdout == "", (command, path.name)
        assert proc.stderr.splitlines() == expected(path), (command, path.name)
    assert stored(store["app"]) == before


def test_a_good_regional_file_goes_through_the_same_gate_and_is_stored(store, tmp_path):
    """The other side: a narrowing file passes each entry point and is stored once."""
    path = tmp_path / "regio.yaml"
    path.write_text('format: 1\nid: west-regio\nversion: "1"\nextends: model-convenant\n'
                    "title: Regio West\nparties:\n  huisarts: {covenant: never}\n",
                    encoding="utf-8")
    app = store["app"]
    versions, activations = stored(app)
    with app.transaction() as s:
        version = registry.activate_ruleset(unit_of(app, s), registry.region_by_code(s, "west"),
                                            str(path), START + dt.timedelta(days=1))
        assert (version.ruleset_id, version.digest) == ("west-regio",
                                                         loader.load_file(path).digest)
    assert stored(app) == (versions + 1, activations + 1)
