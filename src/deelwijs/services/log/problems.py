"""What `audit verify` reports: a Problem per thing found, of one of the KINDS (their Dutch
names). Its own module so that the modules verify calls (binding) can name problems without
importing verify."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "altered": "gewijzigd",
    "forged": "vervalst of ingevoegd",
    "reordered": "verplaatst",
    "missing": "verwijderd",
    "checkpoint": "checkpoint klopt niet",
    "consistency": "checkpoints onderling inconsistent",
    "head": "logkop klopt niet",
    "outside": "checkpoint van buiten de database klopt niet",
    "truncated": "log ingekort of gewist",
    "uncovered": "niet gedekt door een checkpoint",
    "cosignature": "medeondertekening klopt niet",
    "key": "de sleutel past niet bij dit logboek",
    # consent versions and disclosures against their log entries (services.binding)
    "row_altered": "rij gewijzigd",
    "row_unlogged": "rij zonder logregel",
    "row_deleted": "rij verwijderd",
    "pruned_early": "te vroeg opgeschoond",
    "redecided": "besluit wijkt af",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    region: str
    seq: int | None
    entry_id: int | None
    actie_id: str | None
    message: str
    row: str | None = None  # a consent version or disclosure: "<table> <id>"

    def line(self) -> str:
        if self.row is not None:
            return f"{self.region}: {self.row}: {KINDS[self.kind]}: {self.message}"
        where = f"regel {self.seq}" if self.seq is not None else "log"
        ident = f" (id {self.entry_id}, actieId {self.actie_id})" if self.entry_id else ""
        return f"{self.region}: {where}{ident}: {KINDS[self.kind]}: {self.message}"

    def as_json(self) -> dict:
        return {"soort": self.kind, "omschrijving": KINDS[self.kind], "regio": self.region,
                "seq": self.seq, "id": self.entry_id, "actieId": self.actie_id,
                "melding": self.message, **({"rij": self.row} if self.row else {})}
