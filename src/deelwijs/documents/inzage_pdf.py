"""The inzage (AVG art. 15) as a PDF a parent can read: A4, Dutch, sentences rather than codes.

Every name must print exactly, whatever its script: the text is set in DejaVu Sans (Latin,
Greek, Cyrillic, Arabic, Hebrew...), embedded as a subset, with Droid Sans Fallback for
Chinese, Japanese and Korean characters; both ship with the package
(src/deelwijs/documents/fonts/, with their licences). A document with Arabic or Hebrew text
or combining marks is shaped by HarfBuzz (fpdf2's text shaping, uharfbuzz): the letters join
as they should, a right-to-left name runs right to left within left-to-right lines, and the
PDF's text reads back in logical order. No system font is used.

The pages a parent reads come first, in plain Dutch: no codes, rule ids or log fields. The
full citations and the technical identifiers (the ruleset and its digest, rule ids, ground
and reason codes, log entry ids) follow in an annex, "Bijlage: bronnen en kenmerken", for
the FG or the Autoriteit Persoonsgegevens.

The youth's own consent is only shown where the rules in force ask for it: an answer
recorded in the youth's name before that age (a 4-year-old's "consent") is not a consent
and is left off the parent's pages (the annex names the record).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from deelwijs.domain.render import dutch_date
from deelwijs.services.rights.requests import cap

FONT = "dejavu"
FALLBACK = "droidfallback"
FONT_DIR = Path(str(resources.files("deelwijs") / "documents" / "fonts"))
FONT_FILES = {("dejavu", ""): "DejaVuSans.ttf", ("dejavu", "B"): "DejaVuSans-Bold.ttf",
              ("droidfallback", ""): "DroidSansFallback.ttf"}
ANNEX = "Bijlage: bronnen en kenmerken"
_NOT_RECORDED = "niet vastgelegd"


def _clean(text) -> str:
    """Text as given (every character kept); only control characters other than a line
    break become a space."""
    out = []
    for ch in str(text if text is not None else "").replace("\r\n", "\n"):
        if ch != "\n" and unicodedata.category(ch) == "Cc":
            ch = " "
        out.append(ch)
    return "".join(out)


def _date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return dutch_date(dt.date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


def _texts(value) -> list[str]:
    """Every text in the overview (to find the characters the document needs)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    return []


def _needs_shaping(characters: set[str]) -> bool:
    """Whether the text needs HarfBuzz: a right-to-left script (Arabic, Hebrew), or a
    combining mark (an accent typed as a separate character, the vowel signs of Indic and
    Thai scripts); Latin, Greek, Cyrillic and CJK text is set as it is without it."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL", "AN")
               or unicodedata.category(ch) in ("Mn", "Mc", "Me") for ch in characters)


class _Doc(FPDF):
    def __init__(self, name: str, characters: set[str]):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.subject_name = name
        for (family, style), file in FONT_FILES.items():
            if family == FONT:
                self.add_font(family, style, FONT_DIR / file)
        cmap = self.fonts[FONT].cmap
        lacking = {ch for ch in characters if ord(ch) not in cmap and not ch.isspace()
                   and unicodedata.category(ch)[0] != "C"}
        if lacking:  # only then: the CJK font is large to parse
            self.add_font(FALLBACK, "", FONT_DIR / FONT_FILES[(FALLBACK, "")])
            self.set_fallback_fonts([FALLBACK], exact_match=False)
            fallback = self.fonts[FALLBACK].cmap
            lacking = {ch for ch in lacking if ord(ch) not in fallback}
        self.unprintable = sorted(lacking)  # in neither font: named in the annex
        if _needs_shaping(characters):  # (it triples the time to lay out the text)
            # lines stay left to right; a right-to-left name within runs right to left
            self.set_text_shaping(True, direction="ltr")
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_clean(f"Inzage in uw gegevens: {name}"))
        self.set_author("Deelwijs")
        self.set_creator("Deelwijs")
        self.set_lang("nl")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, _clean(f"Inzage in uw gegevens - {self.subject_name} - pagina "
                               f"{self.page_no()} van {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    # building blocks
    def title_(self, text: str) -> None:
        self.set_font(FONT, "B", 20)
        self.multi_cell(0, 10, _clean(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(2)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(4)
        self.set_font(FONT, "B", 14)
        self.set_text_color(20, 60, 120)
        self.multi_cell(0, 8, _clean(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def subheading(self, text: str) -> None:
        if self.get_y() > self.h - 35:
            self.add_page()
        self.ln(1)
        self.set_font(FONT, "B", 11)
        self.multi_cell(0, 6, _clean(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def para(self, text: str, size: float = 11, style: str = "") -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, 5.5, _clean(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(1)

    def bullet(self, text: str, level: int = 0, size: float = 10.5) -> None:
        indent = 4 + 6 * level
        self.set_font(FONT, "", size)
        self.set_x(self.l_margin + indent)
        self.cell(4, 5.5, "•")
        self.multi_cell(self.w - self.r_margin - self.get_x(), 5.5, _clean(text),
                        new_x="LMARGIN", new_y="NEXT", align="L")

    def pair(self, label: str, value: str) -> None:
        self.set_font(FONT, "B", 10.5)
        self.cell(45, 5.5, _clean(label))
        self.set_font(FONT, "", 10.5)
        self.multi_cell(0, 5.5, _clean(value), new_x="LMARGIN", new_y="NEXT", align="L")


def render(inzage: dict) -> bytes:
    """The inzage overview (rights.inzage) as PDF bytes."""
    person = inzage["jongere"]
    name = person["naam"]
    doc = _Doc(name, set("".join(_texts(inzage))))
    doc.alias_nb_pages()
    doc.add_page()
    _parent_pages(doc, inzage)
    doc.add_page()
    _annex(doc, inzage)
    return bytes(doc.output())


def _counts(consent: dict) -> list[dict]:
    """The versions of a consent series the parent's pages show: all of a parent's; of the
    youth's own, only those given at an age the rules ask for it."""
    return [v for v in consent["geschiedenis"] if v.get("telt_mee", True)]


def _parent_pages(doc: _Doc, inzage: dict) -> None:
    person = inzage["jongere"]
    name = person["naam"]
    request = inzage["verzoek"]
    controller = inzage.get("verantwoordelijke") or {}
    who = controller.get("naam") or "de verwerkingsverantwoordelijke"

    doc.title_("Inzage in uw gegevens")
    doc.para(f"Dit is een overzicht van alle gegevens over {name} die in Deelwijs staan. "
             "Deelwijs is het systeem waarmee school, samenwerkingsverband, jeugdhulp, "
             "jeugdgezondheidszorg en gemeente vastleggen welke gegevens zij mogen delen als "
             "zij samen overleggen over een kind, en wat zij gedeeld hebben.")
    doc.para(f"U vroeg om dit overzicht op {_date(request['ontvangen_op'])}. Het is gemaakt op "
             f"{_date(inzage['gemaakt_op'])}. Achteraan staat een bijlage met de precieze "
             "verwijzingen naar wetten en regels, voor wie het wil nagaan.")

    doc.heading("Wie is verantwoordelijk")
    doc.para("De verwerkingsverantwoordelijke bepaalt waarvoor en hoe de gegevens gebruikt "
             "worden, en beantwoordt uw verzoeken. De functionaris gegevensbescherming (FG) "
             "houdt daar toezicht op; u kunt de FG ook zelf benaderen.", size=10.5)
    doc.subheading("Verwerkingsverantwoordelijke")
    doc.pair("Naam", controller.get("naam") or _NOT_RECORDED)
    doc.pair("Postadres", (controller.get("adres") or _NOT_RECORDED))
    fg = controller.get("fg") or {}
    doc.subheading("Functionaris gegevensbescherming (FG)")
    doc.pair("Naam", fg.get("naam") or _NOT_RECORDED)
    doc.pair("E-mail", fg.get("email") or _NOT_RECORDED)
    doc.pair("Telefoon", fg.get("telefoon") or _NOT_RECORDED)
    if not controller.get("naam") or not (fg.get("email") or fg.get("telefoon")
                                          or controller.get("adres")):
        doc.para("Niet alles hierboven is vastgelegd. Vraag het ontbrekende aan de "
                 "organisatie die u dit overzicht gaf.", size=10)

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
        doc.para("Het delen van gegevens, de overleggen en het logboek staan hieronder alleen "
                 "voor deze periode. Vraag gerust om een overzicht over een andere periode.",
                 size=10)

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
                 f"{name} wilde delen: wat er gedeeld is, met wie, waarvoor en waarom dat "
                 "mocht. Ook als iets niet gedeeld mocht worden, staat het hier. Dan is er "
                 "niets gedeeld.", size=10.5)
        for d in inzage["verstrekkingen"]:
            doc.subheading(f"{_date(d['datum'])}: van {d['van']['naam']} aan {d['aan']['naam']}")
            doc.para(d["samenvatting"], size=10.5)
            for item in d["gegevens"]:
                head = "gedeeld" if item["gedeeld"] else "niet gedeeld"
                why = item.get("waarom_eenvoudig") or item["waarom"]
                doc.bullet(f"{cap(item['categorie'])}: {head}. {why}")
                if item.get("inhoud"):
                    doc.bullet(f"Wat er gedeeld is: \"{item['inhoud']}\"", level=1, size=10)

    doc.heading("Toestemmingen")
    shown = [(c, _counts(c)) for c in inzage["toestemmingen"]]
    shown = [(c, versions) for c, versions in shown if versions]
    if not shown:
        doc.para("Er is geen toestemming (en geen weigering) vastgelegd.")
    for c, versions in shown:
        doc.subheading(f"Toestemming van {c['wie']}: nu {c['stand']}")
        doc.para(f"Voor: {', '.join(c['doelen'])}. Welke gegevens: {', '.join(c['gegevens'])}. "
                 f"Aan wie: {', '.join(c['ontvangers'])}.", size=10.5)
        for v in versions:
            how = "schriftelijk" if v["schriftelijk"] else "mondeling"
            doc_ref = f", formulier {v['document']}" if v.get("document") else ""
            doc.bullet(f"Versie {v['versie']}, {_date(v['datum'])}: {v['antwoord']} ({how}"
                       f"{doc_ref}).", size=10)
    ages = inzage.get("toestemming_leeftijden")
    if ages:
        young, alone = ages["jongere_en_ouders_vanaf"], ages["jongere_alleen_vanaf"]
        doc.para(f"Wie toestemming geeft, hangt af van de leeftijd: tot {young} jaar de ouders "
                 f"met gezag, van {young} tot {alone} jaar de ouders en de jongere samen, vanaf "
                 f"{alone} jaar de jongere zelf.", size=10)
    if shown:
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
        doc.para(p.get("uitleg") or p["doel"], size=10)
        for g in p.get("waarom_mag_het", p["grondslag"]):
            doc.bullet(f"Waarom dat mag: {g}", size=9.5)
        doc.bullet(f"Hoe lang: {p.get('hoe_lang') or p['bewaartermijn']}", size=9.5)

    doc.heading("Hoe lang we gegevens bewaren")
    for r in inzage["bewaartermijnen"]:
        until = f" (tot {_date(r['tot'])})" if r.get("tot") else ""
        doc.bullet(f"{cap(r['wat'])}{until}: {r.get('uitleg_eenvoudig') or r['uitleg']}")

    doc.heading("Eerdere verzoeken en verbeteringen")
    for r in inzage["verzoeken"]:
        doc.bullet(f"{_date(r['ontvangen_op'])}: verzoek om {r['soort']}, {r['besluit']}. "
                   f"{r['toelichting']}")
    for c in inzage["correcties"]:
        doc.bullet(f"{_date(c['corrected_on'])}: {c['label']} verbeterd van "
                   f"\"{c['old'] or '(leeg)'}\" naar \"{c['new']}\".")

    doc.heading("Wat er met de gegevens is gedaan")
    doc.para("Elke keer dat iemand de gegevens vastlegt, bekijkt, deelt of verandert, schrijft "
             "Deelwijs dat in een logboek. Namen van medewerkers staan hier niet in; die kunt u "
             "opvragen bij de functionaris gegevensbescherming.", size=10.5)
    if not inzage["verwerkingslog"]:
        doc.para("Er staat (in deze periode) niets over de gegevens in het logboek.")
    for e in inzage["verwerkingslog"]:
        doc.bullet(e.get("omschrijving") or e.get("actieNaam", ""), size=9.5)

    doc.heading("Uw rechten")
    for r in inzage["uw_rechten"]:
        doc.subheading(r["recht"])
        doc.para(r["uitleg"], size=10.5)
    doc.subheading("Contact")
    reach = [f"schrijf aan {who}" + (f", {_one_line(controller['adres'])}"
                                     if controller.get("adres") else "")]
    if fg.get("email") or fg.get("telefoon"):
        ways = " of ".join(w for w in (fg.get("email"), fg.get("telefoon") and
                                       f"telefoon {fg['telefoon']}") if w)
        reach.append(f"neem contact op met de functionaris gegevensbescherming"
                     f"{' (' + fg['naam'] + ')' if fg.get('naam') else ''}: {ways}")
    doc.para(f"Voor een verzoek, een vraag of een klacht: {'; of '.join(reach)}. Noem het "
             f"nummer van dit verzoek ({request['id']}).", size=10.5)


def _one_line(address: str) -> str:
    return ", ".join(line.strip() for line in str(address).splitlines() if line.strip())


def _annex(doc: _Doc, inzage: dict) -> None:
    """The full citations and the technical identifiers, for whoever checks the overview."""
    doc.title_(ANNEX)
    doc.para("Deze bijlage is voor wie het overzicht precies wil nagaan, zoals de functionaris "
             "gegevensbescherming of de Autoriteit Persoonsgegevens: de volledige verwijzingen "
             "naar wetten en regels, en de kenmerken waarmee alles in Deelwijs terug te vinden "
             "is.", size=10)
    rules = inzage.get("regels_in_gebruik")
    doc.heading("Regels en verzoek")
    doc.bullet(f"Verzoek {inzage['verzoek']['id']}, gemaakt op {inzage['gemaakt_op']}.", size=9)
    if rules:
        doc.bullet(f"Ruleset die nu geldt: {rules['naam']} (id {rules['id']}, versie "
                   f"{rules['versie']}, digest {rules['digest']}).", size=9)
    region = (inzage.get("verantwoordelijke") or {}).get("regio")
    if region:
        doc.bullet(f"Regio: {region}.", size=9)

    if inzage["verstrekkingen"]:
        doc.heading("Verstrekkingen: codes, regels en wetsartikelen")
    for d in inzage["verstrekkingen"]:
        version = d.get("regels_versie") or {}
        doc.subheading(f"Verstrekking {d['id']} ({d['datum']})")
        doc.bullet(f"Doel {d.get('doel_code', '')}, uitkomst {d.get('uitkomst', '')}, casus "
                   f"{d.get('casus_id')}; ruleset {version.get('naam', '')} versie "
                   f"{version.get('versie', '')}, digest {version.get('digest', '')}.", size=9)
        for item in d["gegevens"]:
            found = item.get("gronden") or item.get("redenen") or []
            doc.bullet(f"{item.get('code', item['categorie'])}: {item['waarom']} Codes: "
                       f"{', '.join(found) or 'geen'}.", size=9)
            for r in item.get("regels", ()):
                cites = f" ({r['wetsartikelen']})" if r.get("wetsartikelen") else ""
                doc.bullet(f"Regel {r['id']}: {r['titel']}{cites}", level=1, size=8.5)
        if d.get("uitleg_voor_de_professional"):
            doc.bullet(f"Toelichting van de beslissing: {d['uitleg_voor_de_professional']}",
                       size=8.5)

    doc.heading("Doelen: register van verwerkingen")
    for p in inzage["doelen"]:
        doc.subheading(f"{p['naam']} ({p['code']})")
        doc.para(p["doel"], size=9)
        for g in p["grondslag"]:
            doc.bullet(f"Grondslag: {g}", size=9)
        doc.bullet(f"Bewaartermijn: {p['bewaartermijn']}", size=9)
    closed = [r for r in inzage["bewaartermijnen"] if r.get("uitleg_eenvoudig")]
    if closed:
        doc.subheading("Bewaartermijnen van verslagen")
        for r in closed:
            doc.bullet(f"{cap(r['wat'])}: {r['uitleg']}", size=9)

    if inzage["toestemmingen"]:
        doc.heading("Toestemmingen: kenmerken")
    ages = inzage.get("toestemming_leeftijden") or {}
    for c in inzage["toestemmingen"]:
        versions = ", ".join(f"{v['versie']} ({v['datum']}, vastgelegd {v['vastgelegd_op']})"
                             for v in c["geschiedenis"])
        doc.bullet(f"Reeks {c['reeks']} ({c.get('rol', '')}): versies {versions}.", size=9)
        left_off = [v for v in c["geschiedenis"] if not v.get("telt_mee", True)]
        if left_off:
            doc.bullet(f"{len(left_off)} versie(s) van deze reeks staan op naam van de jongere, "
                       f"vastgelegd toen de jongere {left_off[0]['leeftijd']} jaar was. De "
                       "regels vragen pas vanaf "
                       f"{ages.get('jongere_en_ouders_vanaf', '?')} jaar om het antwoord van de "
                       "jongere; dit telt niet mee en staat daarom niet bij de toestemmingen.",
                       level=1, size=8.5)

    doc.heading("Logboek: kenmerken van elke regel")
    if not inzage["verwerkingslog"]:
        doc.para("Geen regels.", size=9)
    for e in inzage["verwerkingslog"]:
        parts = [e.get("tijdstipRegistratie", "")]
        for label, key in (("actie", "actie"), ("handeling", "handelingNaam"),
                           ("actieId", "actieId"), ("volgnummer", "seq"),
                           ("verwerkingsactiviteit", "verwerkingsactiviteitId"),
                           ("versie", "verwerkingsactiviteitVersie"),
                           ("verwerking", "verwerkingId"), ("afnemer", "afnemerId"),
                           ("verstrekking", "verstrekking"), ("bewaartermijn", "bewaartermijn")):
            if e.get(key) not in (None, ""):
                parts.append(f"{label} {e[key]}")
        doc.bullet("; ".join(str(p) for p in parts if p != ""), size=8)

    if doc.unprintable:
        doc.heading("Tekens zonder afbeelding")
        doc.para("Deze tekens komen in de gegevens voor, maar de lettertypen van dit document "
                 "kunnen ze niet tonen: " + ", ".join(
                     f"U+{ord(ch):04X} ({unicodedata.name(ch, 'onbekend')})"
                     for ch in doc.unprintable) + ". De gegevens zelf zijn ongewijzigd.", size=9)
