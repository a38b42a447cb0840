"""The inzage (AVG art. 15) as a PDF a parent can read: A4, Dutch, sentences rather than codes.

Built with fpdf2's core font Helvetica in the Windows-1252 encoding, which covers Dutch
letters (ë, é, ï, ü, ĳ as "ij") and typographic quotes and dashes; a character outside it is
written as its nearest plain letter, or "?". No system fonts are needed.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from fpdf import FPDF

from deelwijs.domain.render import dutch_date
from deelwijs.services.rights import cap

ENCODING = "windows-1252"
_REPLACE = {"→": "->", "←": "<-", "≥": ">=", "≤": "<=", "✓": "v", "✗": "x", "ĳ": "ij",
            "Ĳ": "IJ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
            # letters without a decomposition into a plain letter and an accent
            "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h", "Ə": "E",
            "ə": "e", "ŉ": "'n"}


def _clean(text) -> str:
    """Text the core font can show: every character in Windows-1252."""
    out = []
    for ch in str(text if text is not None else ""):
        ch = _REPLACE.get(ch, ch)
        try:
            ch.encode(ENCODING)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", ch).encode(ENCODING, "ignore").decode(ENCODING)
            ch = plain or "?"
        out.append(ch)
    return "".join(out)


def _date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return dutch_date(dt.date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


class _Doc(FPDF):
    def __init__(self, name: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.subject_name = name
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_clean(f"Inzage in uw gegevens: {name}"))
        self.set_author("Deelwijs")
        self.set_creator("Deelwijs")
        self.set_lang("nl")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, _clean(f"Inzage in uw gegevens - {self.subject_name} - pagina "
                               f"{self.page_no()} van {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    # building blocks
    def title_(self, text: str) -> None:
        self.set_font("Helvetica", "B", 20)
        self.multi_cell(0, 10, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(4)
        self.set_font("Helvetica", "B", 14)
        self.set_text_color(20, 60, 120)
        self.multi_cell(0, 8, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def subheading(self, text: str) -> None:
        if self.get_y() > self.h - 35:
            self.add_page()
        self.ln(1)
        self.set_font("Helvetica", "B", 11)
        self.multi_cell(0, 6, _clean(text), new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 11, style: str = "") -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, 5.5, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def bullet(self, text: str, level: int = 0, size: float = 10.5) -> None:
        indent = 4 + 6 * level
        self.set_font("Helvetica", "", size)
        self.set_x(self.l_margin + indent)
        self.cell(4, 5.5, _clean("•"))
        self.multi_cell(self.w - self.r_margin - self.get_x(), 5.5, _clean(text),
                        new_x="LMARGIN", new_y="NEXT")

    def pair(self, label: str, value: str) -> None:
        self.set_font("Helvetica", "B", 10.5)
        self.cell(45, 5.5, _clean(label))
        self.set_font("Helvetica", "", 10.5)
        self.multi_cell(0, 5.5, _clean(value), new_x="LMARGIN", new_y="NEXT")


def render(inzage: dict) -> bytes:
    """The inzage overview (rights.inzage) as PDF bytes."""
    person = inzage["jongere"]
    name = person["naam"]
    request = inzage["verzoek"]
    doc = _Doc(name)
    doc.alias_nb_pages()
    doc.add_page()

    doc.title_("Inzage in uw gegevens")
    doc.para(f"Dit is een overzicht van alle gegevens over {name} die in Deelwijs staan. "
             "Deelwijs is het systeem waarmee school, samenwerkingsverband, jeugdhulp, "
             "jeugdgezondheidszorg en gemeente vastleggen welke gegevens zij mogen delen als "
             "zij samen overleggen over een kind, en wat zij gedeeld hebben.")
    doc.para(f"U vroeg om dit overzicht op {_date(request['ontvangen_op'])}. Het is gemaakt op "
             f"{_date(inzage['gemaakt_op'])}.")

    doc.heading("Uw verzoek")
    doc.pair("Nummer", str(request["id"]))
    doc.pair("Ontvangen op", _date(request["ontvangen_op"]))
    doc.pair("Gevraagd door", request["gevraagd_door"])
    doc.pair("Antwoord uiterlijk", f"{_date(request['uiterlijk_beantwoord_op'])} (binnen een "
             "maand, art. 12 AVG)")
    period = request.get("periode")
    if period:
        start = _date(period.get("van")) or "het begin"
        end = _date(period.get("tot")) or "vandaag"
        doc.pair("Periode", f"van {start} tot en met {end}")
        doc.para("Verstrekkingen, overleggen en het verwerkingslog staan hieronder alleen voor "
                 "deze periode. Vraag gerust om een overzicht over een andere periode.", size=10)

    doc.heading("Welke gegevens we hebben")
    doc.pair("Naam", name)
    doc.pair("Geboortedatum", f"{_date(person['geboortedatum'])} ({person['leeftijd']} jaar)")
    doc.pair("BSN", person["bsn"] or "niet vastgelegd")
    if person["bsn"]:
        doc.para(person["bsn_uitleg"], size=9.5)
    school = person.get("school")
    doc.pair("School", school["naam"] if school else "niet vastgelegd")
    if "startkwalificatie" in person:
        doc.pair("Startkwalificatie", "ja (diploma havo, vwo of mbo-2)"
                 if person["startkwalificatie"] else "nee")
    if person["ouders"]:
        doc.subheading("Ouders en voogden")
        for g in person["ouders"]:
            doc.bullet(f"{g['naam']} ({g['relatie']}): {g['uitleg']}.")
    else:
        doc.para("Er zijn geen ouders of voogden vastgelegd.")

    doc.heading("Wie kreeg welke gegevens")
    if not inzage["verstrekkingen"]:
        doc.para(f"Er zijn geen gegevens over {name} gedeeld, en niemand heeft geprobeerd ze te "
                 "delen.")
    else:
        doc.para("Hieronder staat elke keer dat een organisatie gegevens over "
                 f"{name} wilde delen: wat er gedeeld is, met wie, waarvoor en op grond van "
                 "welke regel. Ook als iets niet gedeeld mocht worden, staat het hier. Dan is er "
                 "niets gedeeld.", size=10.5)
        for d in inzage["verstrekkingen"]:
            doc.subheading(f"{_date(d['datum'])}: van {d['van']['naam']} aan {d['aan']['naam']}")
            doc.para(d["samenvatting"], size=10.5)
            for item in d["gegevens"]:
                head = "gedeeld" if item["gedeeld"] else "niet gedeeld"
                doc.bullet(f"{cap(item['categorie'])}: {head}. {item['waarom']}")
                if item.get("inhoud"):
                    doc.bullet(f"Wat er gedeeld is: \"{item['inhoud']}\"", level=1, size=10)
                rules = "; ".join(f"{r['titel']}" + (f" ({r['wetsartikelen']})"
                                                      if r["wetsartikelen"] else "")
                                  for r in item["regels"])
                if rules:
                    doc.bullet(f"Regels: {rules}", level=1, size=9.5)

    doc.heading("Toestemmingen")
    if not inzage["toestemmingen"]:
        doc.para("Er is geen toestemming (en geen weigering) vastgelegd.")
    for c in inzage["toestemmingen"]:
        doc.subheading(f"Toestemming van {c['wie']}: nu {c['stand']}")
        doc.para(f"Voor: {', '.join(c['doelen'])}. Welke gegevens: {', '.join(c['gegevens'])}. "
                 f"Aan wie: {', '.join(c['ontvangers'])}.", size=10.5)
        for v in c["geschiedenis"]:
            how = "schriftelijk" if v["schriftelijk"] else "mondeling"
            doc_ref = f", formulier {v['document']}" if v.get("document") else ""
            doc.bullet(f"Versie {v['versie']}, {_date(v['datum'])}: {v['antwoord']} ({how}"
                       f"{doc_ref}).", size=10)
    if inzage["toestemmingen"]:
        doc.para("Toestemming kan altijd worden ingetrokken. Wat al gedeeld is, blijft "
                 "gedeeld; na het intrekken wordt op grond van die toestemming niets meer "
                 "gedeeld.", size=10)

    doc.heading(f"Overleggen over {name}")
    if not inzage["casussen"]:
        doc.para(f"{name} is in geen enkel overleg besproken.")
    for c in inzage["casussen"]:
        status = (f"afgesloten op {_date(c['gesloten_op'])}" if c["gesloten_op"]
                  else "loopt nog")
        doc.subheading(f"{c['titel']}")
        doc.para(f"Soort overleg: {c['overleg'] or c['doel']}. Gestart op "
                 f"{_date(c['geopend_op'])}, {status}. Deelnemers: "
                 f"{', '.join(c['deelnemers'])}.", size=10.5)
        for m in c["overleggen"]:
            doc.bullet(f"Overleg op {_date(m['datum'])}. Agenda: "
                       f"{', '.join(m['agenda']) or 'geen'}.")
            for mn in m["verslagen"]:
                doc.bullet(f"Verslag bij '{mn['agendapunt']}': {mn['tekst']}", level=1, size=10)
            for a in m["afspraken"]:
                doc.bullet(f"Afspraak: {a['omschrijving']} (uiterlijk {_date(a['deadline'])}).",
                           level=1, size=10)

    if inzage.get("werkprocessen"):
        doc.heading("Hulpvraag bij de gemeente")
        for f in inzage["werkprocessen"]:
            about = ", ".join(f["hulpvraag_over"]) or "nog niet bepaald"
            doc.bullet(f"Stand: {f['stand']}. De hulpvraag gaat over: {about}.")

    doc.heading("Waarvoor we de gegevens gebruiken")
    for p in inzage["doelen"]:
        doc.subheading(p["naam"])
        doc.para(p["doel"], size=10)
        for g in p["grondslag"]:
            doc.bullet(f"Grondslag: {g}", size=9.5)
        doc.bullet(f"Bewaartermijn: {p['bewaartermijn']}", size=9.5)

    doc.heading("Hoe lang we gegevens bewaren")
    for r in inzage["bewaartermijnen"]:
        until = f" (tot {_date(r['tot'])})" if r.get("tot") else ""
        doc.bullet(f"{cap(r['wat'])}{until}: {r['uitleg']}")

    doc.heading("Eerdere verzoeken en verbeteringen")
    for r in inzage["verzoeken"]:
        doc.bullet(f"{_date(r['ontvangen_op'])}: verzoek om {r['soort']}, {r['besluit']}. "
                   f"{r['toelichting']}")
    for c in inzage["correcties"]:
        doc.bullet(f"{_date(c['corrected_on'])}: {c['label']} verbeterd van "
                   f"\"{c['old'] or '(leeg)'}\" naar \"{c['new']}\".")

    doc.heading("Wat er met de gegevens is gedaan")
    doc.para("Elke keer dat iemand de gegevens vastlegt, bekijkt, deelt of verandert, schrijft "
             "Deelwijs dat in het verwerkingslog. Namen van medewerkers staan hier niet in; "
             "die kunt u opvragen bij de functionaris gegevensbescherming.", size=10.5)
    if not inzage["verwerkingslog"]:
        doc.para("Er staan (in deze periode) geen regels in het verwerkingslog.")
    for e in inzage["verwerkingslog"]:
        doc.bullet(e.get("omschrijving") or e.get("actieNaam", ""), size=9.5)

    doc.heading("Uw rechten")
    for r in inzage["uw_rechten"]:
        doc.subheading(r["recht"])
        doc.para(r["uitleg"], size=10.5)
    return bytes(doc.output())
