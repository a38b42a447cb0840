"""The authorization matrix of the pages: every page × every persona (conftest.py) and the
anonymous visitor, allowed or forbidden, at a glance in MATRIX below.

    ok     200 (a POST: 303 to the page it came from)
    403    the Dutch "Niet toegestaan" page: a page for another kind of account, or a refusal
           of the use case (a parent without gezag)
    404    the Dutch "Niet gevonden" page: a record that is not this person's to know, answered
           as one that does not exist (another organisation's case, another parent's child,
           another region's account)
    in     303 to /inloggen?terug=... (not logged in)

The ids in the paths come from the scene (scene.py): `sem_case` is a case of the school
(alice), leerplicht (carol) and the SWV about Sem; `bob_case` one of the wijkteam (bob)
alone; `carol_account` an account of the region; `other_account` one of another region.

A forbidden page shows nothing of the record: not its title, not the child's name.
"""

from __future__ import annotations

import pytest
from tests.web.db.conftest import csrf_of, log_in
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)

# the columns of MATRIX (oud2: ouder2, ander: ouder_ander, jong: jongere, anon: not logged in)
PERSONAS = ("alice", "bob", "carol", "sport", "fg", "admin", "ouder", "ouder2", "ouder_ander",
            "jongere", "anoniem")

#                                  alice bob   carol sport fg    admin ouder oud2  ander jong  anon
MATRIX = {
    "GET /start":                 "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    in",
    "GET /account":               "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    in",
    "GET /casussen":              "ok    ok    ok    ok    403   403   403   403   403   403   in",
    "GET /casussen/{sem_case}":   "ok    404   ok    404   403   403   403   403   403   403   in",
    "GET /casussen/{bob_case}":   "404   ok    404   404   403   403   403   403   403   403   in",
    "GET /casussen/999999":       "404   404   404   404   403   403   403   403   403   403   in",
    "GET /fg/log":                "403   403   403   403   ok    403   403   403   403   403   in",
    "GET /fg/register":           "403   403   403   403   ok    403   403   403   403   403   in",
    "GET /fg/datalekken":         "403   403   403   403   ok    403   403   403   403   403   in",
    "GET /beheer/organisaties":   "403   403   403   403   403   ok    403   403   403   403   in",
    "GET /beheer/accounts":       "403   403   403   403   403   ok    403   403   403   403   in",
    "POST /beheer/accounts/{carol_account}/ontgrendelen":
                                  "403   403   403   403   403   ok    403   403   403   403   in",
    "POST /beheer/accounts/{other_account}/ontgrendelen":
                                  "403   403   403   403   403   404   403   403   403   403   in",
    "POST /beheer/accounts/{other_account}/uitschakelen":
                                  "403   403   403   403   403   404   403   403   403   403   in",
    "GET /mijn-gegevens":         "403   403   403   403   403   403   ok    403   ok    ok    in",
    "GET /mijn-gegevens/{sem}":   "403   403   403   403   403   403   ok    403   404   ok    in",
    "GET /mijn-gegevens/{lina}":  "403   403   403   403   403   403   404   404   ok    404   in",
}
SECRETS = ("Zorgen over aanwezigheid van Sem", "Casus van het wijkteam", "Sem de Vries",
           "Lina Yilmaz", "12 uur ongeoorloofd")


def expected(page: str) -> dict[str, str]:
    cells = MATRIX[page].split()
    assert len(cells) == len(PERSONAS), page
    return dict(zip(PERSONAS, cells, strict=True))


def ids(personas, scene) -> dict[str, int]:
    return {"sem_case": scene.sem_case, "bob_case": scene.bob_case,
            "carol_account": personas.accounts["carol"], "other_account": scene.other_account,
            "sem": personas.youths["sem"], "lina": personas.youths["lina"]}


def visit(client, page: str, values: dict, csrf: str):
    method, path = page.split(" ", 1)
    path = path.format(**values)
    if method == "GET":
        return path, client.get(path)
    return path, client.post(path, data={"csrf": csrf})


def outcome(response) -> str:
    status = response.status_code
    if status == 303 and response.headers["location"].startswith("/inloggen?terug="):
        return "in"
    if status in (200, 303):
        return "ok"
    return str(status)


def check(response, want: str, path: str) -> list[str]:
    """What is wrong with the answer to `path`, against the cell `want`."""
    got = outcome(response)
    if got != want:
        return [f"{path}: {got} in plaats van {want}"]
    problems = []
    if want in ("403", "404"):
        text = response.text
        title = "Niet toegestaan" if want == "403" else "Niet gevonden"
        if title not in text or "Traceback" in text or 'lang="nl"' not in text:
            problems.append(f"{path}: geen Nederlandse foutpagina ({title})")
        problems += [f"{path}: de weigering toont '{s}'" for s in SECRETS if s in text]
    return problems


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_for_every_persona(browser, personas, scene, persona):
    csrf = ""
    if persona != "anoniem":
        landed = log_in(browser, personas.usernames[persona], totp=persona in ("fg", "admin"))
        assert landed.status_code == 303 and landed.headers["location"] == "/start", persona
        csrf = csrf_of(browser.get("/start").text)
    values = ids(personas, scene)
    problems = []
    for page in MATRIX:
        want = expected(page)[persona]
        path, response = visit(browser, page, values, csrf)
        problems += check(response, want, path)
    assert not problems, f"{persona}:\n" + "\n".join(problems)


def test_the_matrix_names_every_page_of_the_app(web):
    """Every page route of the app (not the API, the wizard, logging in or static files) is in
    the matrix, so a new page cannot slip past it."""
    covered = {page.split(" ", 1)[1].split("/{")[0].rstrip("/").split("/999999")[0]
               for page in MATRIX}
    skip = ("/api", "/static", "/inloggen", "/uitloggen", "/account/", "/mag-ik-dit-delen")
    routes = {r.path.split("/{")[0] for r in web.routes
              if hasattr(r, "methods") and r.path != "/" and not r.path.startswith(skip)}
    assert routes <= covered, sorted(routes - covered)
