"""The Dutch words for Deelwijs's codes: the one home of every code → Dutch table of the domain,
the rules and the web app (issue 12, step 8).

Grouped by concept. A table is named for what it holds; where the same codes have two
wordings for two audiences, both stand side by side here, each with a comment saying where
it is used (e.g. `ROUTE_SHORT` for `deelwijs rules show` beside `ROUTE_PHRASE` for the
register). Changing a word here changes the output of everything that uses it: the decision
explanations, the register exports, `rules show`/`diff` and the scenario files pin it.

Pure data: no imports. tests/unit/domain/test_labels.py checks that each table's keys are the
codes of its concept (domain/codes.py) and that no two tables are the same.
"""

from __future__ import annotations

# --- grounds (art. 6 AVG and the other grounds of the decision contract) --------------------

# A ground as a decision's explanation cites it, with its article, read after "op grond van":
# domain/render (explanations), the wizard's answer page, the inzage (services; as
# codes.GROUND_NL until its import moves here).
GROUND_CITED = {
    "PUBLIC_TASK": "de publieke taak (art. 6 lid 1 sub e AVG)",
    "LEGAL_OBLIGATION": "een wettelijke plicht (art. 6 lid 1 sub c AVG)",
    "LEGAL_POWER": "een wettelijke bevoegdheid, gebruikt na een vastgelegde afweging "
                   "(art. 6 lid 1 sub e AVG)",
    "CONSENT": "toestemming (art. 6 lid 1 sub a AVG)",
    "VITAL_INTEREST": "een vitaal belang (art. 6 lid 1 sub d AVG)",
    "CONFLICT_OF_DUTIES": "een conflict van plichten",
    "MELDRECHT": "het meldrecht (meldcode)",
    "COMPATIBLE_PURPOSE": "een verenigbaar doel (art. 6 lid 4 AVG)",
    "ANONYMOUS": "anonimiteit: er gaan geen persoonsgegevens over",
}
# A ground's short name, without its article: the register (a grondslag's `naam`).
GROUND_NAME = {
    "PUBLIC_TASK": "publieke taak",
    "LEGAL_OBLIGATION": "wettelijke plicht",
    "LEGAL_POWER": "wettelijke bevoegdheid (vastgelegde afweging)",
    "CONSENT": "toestemming",
    "VITAL_INTEREST": "vitaal belang",
    "CONFLICT_OF_DUTIES": "conflict van plichten (vastgelegde afweging)",
    "MELDRECHT": "meldrecht (meldcode)",
    "COMPATIBLE_PURPOSE": "verenigbaar doel (vastgelegde beoordeling)",
    "ANONYMOUS": "anoniem bespreken",
}
# The AVG article of a ground (as in GROUND_CITED), for the register; other grounds cite their
# rule's article.
GROUND_AVG_ARTICLE = {
    "PUBLIC_TASK": "art. 6 lid 1 sub e AVG",
    "LEGAL_OBLIGATION": "art. 6 lid 1 sub c AVG",
    "LEGAL_POWER": "art. 6 lid 1 sub e AVG",
    "CONSENT": "art. 6 lid 1 sub a AVG",
    "VITAL_INTEREST": "art. 6 lid 1 sub d AVG",
    "COMPATIBLE_PURPOSE": "art. 6 lid 4 AVG",
}
# VNG VAR `grondslag` names, by the letter of art. 6 lid 1 AVG (VNG has no "vitaal belang"):
# the register's VNG export.
VNG_GROUND = {"a": "Toestemming betrokkene", "b": "Uitvoering overeenkomst",
              "c": "Wettelijke verplichting", "d": "Vitaal belang", "e": "Publieke taak",
              "f": "Gerechtvaardigd belang"}

# --- reasons (why an item may not be shared) -----------------------------------------------

# Read in parentheses after a refusal: domain/render (explanations), the wizard's answer page,
# the inzage (services; as codes.REASON_NL until its import moves here).
REASON_PHRASE = {
    "NOT_A_PARTY": "geen partij",
    "PURPOSE_MISMATCH": "niet nodig voor het doel",
    "CONSENT_MISSING": "geen geldige toestemming",
    "CONSENT_NOT_A_GROUND": "toestemming is hier geen grondslag",
    "PROFESSIONAL_SECRECY": "beroepsgeheim",
    "SITUATION_C": "alleen voor de taak van de ontvanger (situatie C)",
    "OUT_OF_SCOPE": "buiten de hulpvraag",
    "SPECIAL_CATEGORY": "bijzonder persoonsgegeven zonder uitzonderingsgrond",
    "BULK_REQUEST": "bulkverzoek",
}

# --- routes (how a purpose is reached) -------------------------------------------------------

# A column value: `deelwijs rules show` and `rules diff` (rules/show).
ROUTE_SHORT = {"covenant": "convenant", "municipal": "gemeente", "own_task": "eigen taak",
               "legal": "wettelijke route"}
# A phrase: the register's `route` of an activity (domain/register), with "system" for the
# activities Deelwijs itself performs.
ROUTE_PHRASE = {"covenant": "casusoverleg onder het convenant",
                "municipal": "taak van het college", "own_task": "eigen taak",
                "legal": "wettelijke route", "system": "Deelwijs"}
# A heading over the purposes of a route, in this order: the wizard's purpose list (web/wizard).
ROUTE_HEADING = {
    "covenant": "Casusoverleg volgens het convenant",
    "municipal": "Taak van de gemeente",
    "own_task": "Eigen taak",
    "legal": "Wettelijke routes",
}

# --- parties and their covenant membership --------------------------------------------------

# A party's kind as a column value: `rules show` and `rules diff` (rules/show).
PARTY_KIND_SHORT = {"public_body": "publiek", "secrecy": "beroepsgeheim", "private": "privaat"}
# "Every party of this kind", as the discloser of a legal route: the register (domain/register).
PARTY_KIND_EVERY = {"secrecy": "iedere geheimhouder", "public_body": "iedere publieke partij",
                    "private": "iedere private partij"}
# Whether a party is a covenant party, as a column value: `rules show` and `rules diff`.
MEMBERSHIP_SHORT = {
    "always": "ja",
    "mandate": "ja, met schriftelijke machtiging aan het SWV",
    "acceded": "ja, na toetredingsformulier (getekend en bekendgemaakt)",
    "never": "nee",
}
# The condition under which a party takes part, after its name (empty: always): the register's
# verstrekkers and ontvangers (domain/register).
MEMBERSHIP_CONDITION = {
    "always": "",
    "mandate": "met schriftelijke machtiging aan het samenwerkingsverband",
    "acceded": "na een getekend en aan de deelnemers bekendgemaakt toetredingsformulier",
    "never": "geen convenantpartij",
}
# The register's categories of data subjects (categorieen_betrokkenen), by a role's singular.
ROLE_PLURAL = {
    "jeugdige": "jeugdigen (leerlingen en jongeren over wie gegevens worden verwerkt)",
    "ouder of verzorger met gezag": "ouders of verzorgers met gezag",
    "ouder of verzorger": "ouders of verzorgers (met vermelding of zij gezag hebben)",
    "verzoeker": "verzoekers: de jongere of een ouder met gezag die een verzoek doet",
    "medewerker": "medewerkers van de partijen die het verzoek of het lek behandelen",
}

# --- purposes --------------------------------------------------------------------------------

# The aim of each purpose: the register's `doel` (domain/register). The ruleset names a purpose;
# what it is for comes from the decision contract, the glossary and the domain brief (§1.4:
# reconstructed, the covenant's own per-overleg text could not be read).
PURPOSE_AIM = {
    "signalering": "Vroegtijdig signaleren van zorgen over een jongere en afstemmen welke "
    "ondersteuning passend is (preventief overleg).",
    "thuiszitters": "Terugleiden naar onderwijs van een leerling die thuiszit, en aanpakken "
    "van absoluut of relatief verzuim.",
    "een_plan": "Afstemmen van de hulp aan jongere en gezin in één plan (1 gezin 1 plan).",
    "oza": "Vaststellen van de extra ondersteuningsbehoefte van een leerling en opstellen van "
    "een gecombineerd onderwijs-zorgarrangement (OZA).",
    "toeleiding": "Toeleiding naar hulp: van de eerste melding tot het besluit van het college "
    "over de hulp (taak van het college).",
    "gecoordineerde_aanpak": "Gecoördineerde aanpak door het college als de problemen van een "
    "inwoner op meerdere domeinen samenhangen, binnen de hulpvraag van de inwoner.",
    "eigen_taak": "Eigen begeleiding of hulp van de verstrekkende partij voor de jongere, "
    "buiten een casusoverleg (ABC-situatie A).",
    "verzuimmelding": "Wettelijke melding van ongeoorloofd verzuim door de school aan de "
    "gemeente (leerplicht), via het verzuimloket van DUO.",
    "overdracht": "Overdracht van gegevens bij een overstap naar een volgende school "
    "(onderwijskundig rapport), of van de kinderopvang naar school met toestemming.",
    "meldcode": "Melden bij Veilig Thuis bij een vermoeden van huiselijk geweld of "
    "kindermishandeling, volgens de stappen van de meldcode.",
    "ots": "Verstrekken aan de gecertificeerde instelling die een ondertoezichtstelling "
    "uitvoert.",
    "raadsonderzoek": "Inlichtingen geven aan de Raad voor de Kinderbescherming die nodig zijn "
    "voor de taak van de Raad.",
}

# --- the youth: education status, consent ---------------------------------------------------

# A youth's education status as an adjective, after "jongere": the register's legal routes.
EDUCATION_STATUS_ADJECTIVE = {
    "leerplicht": "leerplichtig", "kwalificatieplicht": "kwalificatieplichtig",
    "rmc": "18 tot 23 jaar zonder startkwalificatie (RMC)", "none": "zonder status"}
# Who must consent: domain/render (consent answers) and the wizard's answer page.
CONSENTER = {"parents": "de ouders met gezag", "youth": "de jongere"}
# A consent answer as the wizard offers it (web/wizard).
CONSENT_ANSWER = {"given": "Gegeven", "refused": "Geweigerd", "none": "Niet gevraagd"}

# --- the municipal workflow -----------------------------------------------------------------

# A workflow state (domain/workflow): its errors, and the services' case views, inzage and
# retention (as workflow.STATE_NL until their imports move here).
WORKFLOW_STATE = {
    "new": "nieuw",
    "intake": "intake gehouden",
    "assessment": "problematiek beoordeeld",
    "investigation": "onderzoek met de inwoner (reikwijdte bepaald)",
    "proposal": "voorstel gecoördineerde aanpak gedaan",
    "decision": "besluit genomen",
    "coordinator": "coördinator aangewezen",
    "single": "enkelvoudige problematiek: afgerond",
    "declined": "inwoner ziet af van het voorstel",
    "self_coordinated": "inwoner neemt de afstemming zelf op zich",
}

# --- weighings (documented exceptions) ------------------------------------------------------

# A kind of documented weighing (domain/exceptions.KINDS), read after "een": the services'
# case views and messages (as exceptions.LABEL_NL until their imports move here).
WEIGHING_KIND = {
    "conflict_of_duties": "afweging conflict van plichten",
    "vital_interest": "afweging vitaal belang",
    "compatible_purpose": "afweging verenigbaar doel",
    "legal_duty": "afweging wettelijke plicht",
    "statutory_power": "afweging gebruik wettelijke bevoegdheid",
}

# --- rendering of a decision: obligations, absence duty, retention --------------------------

# What the professional must do after a disclosure: domain/render and the wizard's answer page.
OBLIGATION_INSTRUCTION = {
    "LOG_PROCESSING": "leg de verstrekking vast in het verwerkingenlogboek",
    "DOCUMENT_WEIGHING": "leg uw afweging schriftelijk vast",
    "INFORM_DATA_SUBJECT": "informeer de ouders en/of de jongere over deze verstrekking",
    "RECORD_CONSENT": "bewaar de toestemming (wie, wanneer, waarvoor) bij het dossier",
}
# INFORM_DATA_SUBJECT when the item goes on the meldrecht (instead of its line above).
INFORM_MELDCODE_INSTRUCTION = (
    "bespreek de melding vooraf met de ouders en/of de jongere en informeer hen erover, "
    "behalve als dat de veiligheid van het kind, van uzelf of van een ander in gevaar brengt, "
    "of als u dan ernstig vreest dat zij het contact met u verbreken (stap 4 en 5 van de "
    "meldcode; art. 5.2.6 Wmo 2015); leg vast waarom u hen niet informeerde")
# The school's duty to report an absence: domain/render (absence answers).
ABSENCE_DUTY = {
    "mandatory": "De school moet dit verzuim melden",
    "optional": "De school mag dit verzuim melden, maar hoeft het niet",
    "none": "De school meldt dit verzuim niet",
}
# A retention term, before its date: domain/render (retention answers).
RETENTION_TERM = {"minimum": "ten minste bewaren tot", "maximum": "vernietigen uiterlijk op"}
# A kind of record and the event its retention term runs from: the register (domain/register).
RECORD_AND_START = {
    "leerlingdossier": ("leerlingdossier", "nadat de leerling de school verliet"),
    "verzuimregistratie": ("verzuim-, in- en uitschrijvingsgegevens", "na uitschrijving"),
    "verwijzing_so": ("gegevens over een verwijzing naar het speciaal onderwijs", "na vertrek"),
    "jeugdhulpdossier": ("jeugdhulpdossier", "na het einde van de hulp"),
    "casusoverleg_verslag": ("verslag van het casusoverleg", "na afsluiting van de casus"),
}
# The months, for a date in words: domain/render (dutch_date) and the register.
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")

# --- the covenant -----------------------------------------------------------------------------

# Article titles of the covenant, numbered as in the regional adaptation the model follows
# (Amersfoort e.o., 16-11-2022; brief §1.3; the national model's numbering may differ): the
# register's citations.
COVENANT_ARTICLE_TITLE = {
    1: "definities", 2: "afzonderlijke verwerkingsverantwoordelijken", 3: "doel verwerking",
    4: "grondslagen", 5: "soorten persoonsgegevens",
    6: "(bijzondere) persoonsgegevens en geheimhouding", 7: "dataminimalisatie", 8: "kwaliteit",
    9: "bewaren en vernietigen", 10: "beveiliging", 11: "geheimhouding",
    12: "informeren van betrokkenen", 13: "rechten van betrokkenen",
    14: "verstrekking aan derden", 15: "verwerkingsregister en FG", 16: "aansprakelijkheid",
    17: "wijzigingen", 18: "toetreding", 19: "duur en beëindiging",
    20: "monitoring, toezicht, audit en evaluatie", 21: "toepasselijk recht",
}

# --- a ruleset's fields: `rules show`/`rules diff` (rules/show) and the loader's messages ----

# A section of a ruleset, in the order a diff lists its changes (rules/show).
RULESET_SECTION = {
    "purposes": "doel", "parties": "partij", "categories": "categorie", "hats": "pet",
    "domains": "domein", "routes": "wettelijke route", "consent": "toestemming",
    "absence": "verzuim", "retention": "bewaartermijn", "overleg_types": "regionaal overleg",
    "conditions": "extra voorwaarde", "rules": "regel", "signatories": "ondertekenaars",
}
# A field of a legal route (ruleset.Route).
ROUTE_FIELD = {
    "rule": "regel", "from_": "van", "to": "aan", "categories": "categorieën",
    "grant": "grond", "otherwise": "anders", "otherwise_rule": "regel bij anders",
    "deny": "weigering", "obligations": "verplichtingen", "from_kind": "soort verstrekker",
    "status": "status", "needs": "vereist", "alternatives": "andere gronden",
    "lacking": "bij ontbreken",
}
# A field of the absence rules (ruleset.AbsenceRule).
ABSENCE_FIELD = {
    "leerplicht_from": "leerplichtig vanaf (jaar)",
    "leerplicht_until": "leerplichtig tot (jaar)",
    "kwalificatieplicht_until": "kwalificatieplichtig tot (jaar)",
    "threshold_hours": "meldgrens (uren ongeoorloofd verzuim)",
    "threshold_weeks": "binnen (schoolweken)",
    "deadline_working_days": "melden binnen (werkdagen)",
    "rmc_until": "RMC-taak tot (jaar)",
}
# A field of the consent rules (ruleset.ConsentRule).
CONSENT_FIELD = {"youth_and_parents_from": "ouders en jongere samen vanaf",
                 "youth_alone_from": "jongere alleen vanaf",
                 "written": "schriftelijk", "prior": "vooraf"}
# A field of a rule (ruleset.Rule) or of its citations (ruleset.Citations).
RULE_FIELD = {"title": "titel", "explanation": "uitleg", "avg": "bron (avg)",
              "sector": "bron (sectorwet)", "convenant": "bron (convenant)",
              "fg_judgement": "FG-oordeel", "origin": "herkomst"}
# A field of a party (ruleset.Party) with its article: the loader's messages when a region
# changes what it may not (rules/loader).
PARTY_FIELD = {"label": "de naam", "article": "het lidwoord", "kind": "de soort",
               "default_domain": "het domein"}

# --- the wizard "Mag ik dit delen?" (web/wizard) --------------------------------------------

# A hat (pettenvraagstuk) as the wizard offers it.
HAT_CHOICE = {
    "toeleiding": "Toeleiding (namens de gemeente)",
    "hulpverlening": "Hulpverlening (als jeugdhulpverlener)",
    "coordinatie": "Coördinatie of regie (namens de gemeente)",
}
# A task situation (ABC) as the wizard offers it, in this order.
TASK_CHOICE = {
    "both": "Voor een taak van ons allebei (situatie B)",
    "own": "Voor mijn eigen taak (situatie A)",
    "recipient": "Alleen voor een taak van de ontvanger (situatie C)",
}
# A decision's outcome: (the verdict of an item, the headline of the answer).
OUTCOME_VERDICT = {
    "allow": ("Ja", "Ja, dat mag"),
    "deny": ("Nee", "Nee, dat mag niet"),
    "partial": ("Gedeeltelijk", "Gedeeltelijk: een deel mag, een deel niet"),
}

# --- the decision contract's JSON ---------------------------------------------------------------

# Python's JSON messages (json.JSONDecodeError.msg) in Dutch: domain/contract.parse_json.
JSON_ERROR = {
    "Expecting value": "waarde verwacht",
    "Expecting ',' delimiter": "komma verwacht",
    "Expecting ':' delimiter": "dubbele punt verwacht",
    "Expecting property name enclosed in double quotes": "veldnaam tussen dubbele aanhalingstekens "
    "verwacht",
    "Unterminated string starting at": "tekst zonder afsluitend aanhalingsteken",
    "Extra data": "extra tekens na het JSON-object",
    "Invalid control character at": "ongeldig stuurteken",
    "Invalid \\escape": "ongeldige escape (\\)",
    "Invalid \\uXXXX escape": "ongeldige \\u-escape",
    "Unterminated string": "tekst zonder afsluitend aanhalingsteken",
}


# --- the data subject's rights, the processing log and breaches (for the parent's inzage,
# the requests and the breach register)

RIGHTS_REQUEST_KIND = {"inzage": "inzage",
                       "rectificatie": "verbeteren van gegevens (rectificatie)",
                       "wissing": "wissen van gegevens", "beperking": "beperken van het gebruik",
                       "bezwaar": "bezwaar tegen het gebruik"}

RIGHTS_REQUEST_DECISION = {"toegewezen": "toegewezen", "afgewezen": "afgewezen",
                           "deels": "deels toegewezen"}

RECTIFIABLE_FIELD = {"name": "naam", "birth": "geboortedatum", "school": "school",
                     "guardian_name": "naam van een ouder of voogd",
                     "startkwalificatie": "startkwalificatie (diploma havo, vwo of mbo-2)"}

CONSENT_STATE = {"given": "gegeven", "refused": "geweigerd", "withdrawn": "ingetrokken"}

# what happened, in a parent's words, per log action (audit.ACTIONS)
LOG_ACTION_PLAIN = {
    "create": "gegevens vastgelegd", "read": "gegevens bekeken", "disclose": "gegevens gedeeld",
    "deny": "iemand wilde gegevens delen, maar dat mocht niet; er is niets gedeeld",
    "export": "gegevens uitgevoerd naar een bestand", "correct": "gegevens verbeterd",
    "erase": "gegevens gewist", "restrict": "gebruik beperkt", "object": "bezwaar vastgelegd",
    "consent": "toestemming vastgelegd", "inzage": "inzage gegeven",
    "minute": "verslag van een overleg geschreven", "identify": "casus op naam gezet",
    "breach": "datalek vastgelegd",
}

# ... and where the handeling says more than the action
LOG_HANDELING_PLAIN = {
    "Wijzigen toestemming": "toestemming gewijzigd of ingetrokken",
    "Weigeren wissing (bewaartermijn)": "verzoek om wissen afgewezen (de gegevens moeten nog "
    "bewaard blijven)",
    "Opheffen beperking": "beperking opgeheven", "Intrekken bezwaar": "bezwaar ingetrokken",
    "Inzien correctiegeschiedenis": "geschiedenis van verbeteringen bekeken",
}

DISCLOSURE_KIND_WHERE = {"minute": "in een verslag van een overleg", "document": "in een document",
                         "answer": "als antwoord op een vraag"}

RETENTION_BASIS = {"casus": "afsluiting van de casus", "werkproces": "de laatste stap van het "
                   "werkproces", "verstrekking": "de laatste verstrekking buiten een casus",
                   "registratie": "de registratie"}

BREACH_RISK = {"onwaarschijnlijk": "een risico is onwaarschijnlijk",
               "risico": "risico voor de betrokkenen", "hoog": "hoog risico voor de betrokkenen"}
