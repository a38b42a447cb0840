"""The closed code lists of the decision contract (shared/spec/decisions.md)."""

from __future__ import annotations

KINDS = ("disclosure", "absence_report", "consent_required", "retention")

PARTIES = (
    "school", "swv", "leerplicht", "gemeente", "jeugdhulp", "jgz", "huisarts",
    "veilig_thuis", "gi", "raad", "kinderopvang", "derde",
)
HATS = ("toeleiding", "hulpverlening", "coordinatie")
# Who may wear a hat (pettenvraagstuk): wijkteam professionals, employed by a provider or by
# the municipality. On any other discloser a hat is bad input (contract 1.1, rule 4).
HAT_WEARERS = ("jeugdhulp", "gemeente")
PURPOSES = (
    "signalering", "thuiszitters", "een_plan", "oza",
    "verzuimmelding", "overdracht", "eigen_taak", "toeleiding", "gecoordineerde_aanpak",
    "meldcode", "ots", "raadsonderzoek",
)
COVENANT_PURPOSES = ("signalering", "thuiszitters", "een_plan", "oza")
MUNICIPAL_PURPOSES = ("toeleiding", "gecoordineerde_aanpak")
CATEGORIES = (
    "identificatie", "onderwijspositie", "verzuim", "betrokkenheid",
    "ondersteuningsbehoefte", "leerresultaten", "gedrag", "thuissituatie",
    "hulpverlening", "gezondheid", "veiligheid", "justitie",
)
OUTSIDE = ("identificatie", "onderwijspositie", "verzuim", "betrokkenheid")
DOMAINS = ("onderwijs", "jeugd", "wmo", "participatie", "schulden", "wonen", "zorg")
TASKS = ("own", "both", "recipient")
CONSENT_ANSWERS = ("given", "refused", "none")
REASONS = (
    "NOT_A_PARTY", "PURPOSE_MISMATCH", "CONSENT_MISSING", "CONSENT_NOT_A_GROUND",
    "PROFESSIONAL_SECRECY", "SITUATION_C", "OUT_OF_SCOPE", "SPECIAL_CATEGORY", "BULK_REQUEST",
)
GROUNDS = (
    "PUBLIC_TASK", "LEGAL_OBLIGATION", "LEGAL_POWER", "CONSENT", "VITAL_INTEREST",
    "CONFLICT_OF_DUTIES", "MELDRECHT", "COMPATIBLE_PURPOSE", "ANONYMOUS",
)
OBLIGATIONS = ("LOG_PROCESSING", "DOCUMENT_WEIGHING", "INFORM_DATA_SUBJECT", "RECORD_CONSENT")
ABSENCE_TYPES = ("ongeoorloofd", "luxe", "langdurig_relatief", "ziekte", "vermoeden_ongeoorloofd")
RECORDS = (
    "leerlingdossier", "verzuimregistratie", "verwijzing_so", "jeugdhulpdossier",
    "casusoverleg_verslag",
)
PARTY_KINDS = ("public_body", "secrecy", "private")
COVENANT_MEMBERSHIP = ("always", "mandate", "acceded", "never")
ROUTES = ("covenant", "municipal", "own_task", "legal")
# A youth's status under the Leerplichtwet 1969 and the RMC task (WEB art. 8.3.2), by age and
# startkwalificatie: what a verzuimmelding and an absence report depend on.
EDUCATION_STATUSES = ("leerplicht", "kwalificatieplicht", "rmc", "none")
# What a legal route's grant may need, and the other grounds that may carry its items.
ROUTE_NEEDS = ("weighing_documented",)
ROUTE_ALTERNATIVES = ("consent", "vital_interest")
