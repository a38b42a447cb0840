"""Documented exceptions: the written weighing behind a breach of secrecy or purpose, or
behind the use of a statutory power to provide (kind `statutory_power`).

Only a complete record makes the engine's fact true. The conflict-of-duties step plan
follows the commonly used KNMG-style questions (domain brief §1.8, marked UNCERTAIN there: the
questions are data here so a region can replace them).
"""

from __future__ import annotations

KINDS = ("conflict_of_duties", "vital_interest", "compatible_purpose", "legal_duty",
         "statutory_power")
# weighed in a case (the casusoverleg's exceptions); the use of a statutory power is weighed
# about a youth, outside any case: the legal route it opens (raadsonderzoek) has no case
CASE_KINDS = KINDS[:4]
YOUTH_KINDS = ("statutory_power",)


QUESTIONS = {
    "conflict_of_duties": (
        ("consent_sought", "Is alles gedaan om toestemming te krijgen?", "yes"),
        ("serious_harm", "Levert zwijgen ernstige schade op voor de cliënt of een ander?", "yes"),
        ("conscience", "Verkeert u in gewetensnood door het zwijgen?", "yes"),
        ("no_other_way", "Is er geen andere weg om de schade te voorkomen?", "yes"),
        ("effective", "Is het (vrijwel) zeker dat doorbreken de schade voorkomt of beperkt?",
         "yes"),
        ("minimum", "Deelt u alleen wat strikt nodig is?", "yes"),
    ),
    "vital_interest": (
        ("acute_danger", "Is het leven of de gezondheid van de jongere acuut in gevaar?", "yes"),
        ("no_consent_possible", "Kan toestemming nu niet (tijdig) worden gevraagd?", "yes"),
        ("minimum", "Deelt u alleen wat nodig is om het gevaar af te wenden?", "yes"),
    ),
    "compatible_purpose": (
        ("link", "Welk verband is er tussen het oorspronkelijke en het nieuwe doel?", "text"),
        ("context", "In welke context zijn de gegevens verzameld?", "text"),
        ("nature", "Gaat het om bijzondere of strafrechtelijke gegevens?", "text"),
        ("consequences", "Wat zijn de gevolgen voor de jongere en de ouders?", "text"),
        ("safeguards", "Welke waarborgen zijn er (pseudonimisering, beperkte toegang)?", "text"),
    ),
    "legal_duty": (
        ("article", "Welk wetsartikel verplicht tot verstrekken?", "text"),
        ("request", "Wat vraagt de ontvanger precies, en waarom?", "text"),
    ),
    # a power, not a duty (e.g. art. 1:240 BW: the Raad voor de Kinderbescherming may be given
    # what is necessary for its task): used only after weighing necessity, proportionality and
    # subsidiarity, and sharing no more than that task needs (contract 1.1, change 6)
    "statutory_power": (
        ("article", "Welke wettelijke bevoegdheid gebruikt u (bijvoorbeeld art. 1:240 BW)?",
         "text"),
        ("request", "Wat vraagt de ontvanger precies, en voor welke wettelijke taak?", "text"),
        ("consent", "Is toestemming gevraagd? Zo nee: waarom niet?", "text"),
        ("necessary", "Zijn deze gegevens noodzakelijk voor die taak van de ontvanger?", "yes"),
        ("proportional", "Staat het verstrekken in verhouding tot dat doel, gelet op de "
         "belangen van de jongere en de ouders (proportionaliteit)?", "yes"),
        ("no_lighter_way", "Is er geen minder ingrijpende manier om dat doel te bereiken "
         "(subsidiariteit)?", "yes"),
        ("minimum", "Deelt u alleen wat de ontvanger voor die taak nodig heeft?", "yes"),
    ),
}


def check_answers(kind: str, answers: dict[str, str]) -> tuple[bool, list[str]]:
    """(complete, problems). Complete: every question answered, every yes/no question 'yes'
    (any 'no' means the exception does not apply: R22)."""
    problems = []
    for key, question, form in QUESTIONS[kind]:
        value = str(answers.get(key, "")).strip()
        if not value:
            problems.append(f"onbeantwoord: {question}")
        elif form == "yes" and value.lower() not in ("ja", "yes"):
            problems.append(f"'{value}' op: {question} — dan geldt de uitzondering niet")
    return not problems, problems
