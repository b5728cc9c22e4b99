"""The domain defaults of the clean stage: acronyms respondents use (expanded in the embedded text only) and whole
answers that say nothing. A corpus's pipeline.toml replaces either list as a whole."""
from __future__ import annotations

DEFAULT_ACRONYMS: dict[str, str] = {
    "NHSE": "NHS England",
    "NHSI": "NHS Improvement",
    "CCG": "clinical commissioning group",
    "CCGs": "clinical commissioning groups",
    "STP": "sustainability and transformation plan",
    "STPs": "sustainability and transformation plans",
    "OD": "organisational development",
    "LA": "local authority",
    "LAs": "local authorities",
    "GP": "general practitioner",
    "GPs": "general practitioners",
    "A&E": "accident and emergency",
    "ACO": "accountable care organisation",
    "FT": "foundation trust",
    "FTs": "foundation trusts",
    "HWB": "health and wellbeing board",
    "CQC": "Care Quality Commission",
    "PbR": "payment by results",
    "QIPP": "quality, innovation, productivity and prevention",
}

DEFAULT_NON_ANSWERS: list[str] = [
    "n/a", "na", "n.a.", "none", "nothing", "no", "nil", "-", "--", ".", "?", "see above", "as above",
    "no comment", "no comments", "not applicable", "don't know", "dont know", "dk", "nothing to add",
    "nothing further", "nothing else", "none that i can think of", "not sure", "no other barriers", "x",
]

# Capitalised names that identify no respondent: national bodies, programmes, nations and regions of England
# (quotes.public_names). A local body ("Wexley Borough Council") is not here, and is flagged.
DEFAULT_PUBLIC_NAMES: tuple[str, ...] = (
    "NHS England", "NHS Improvement", "NHS Property Services", "NHS Digital", "Care Quality Commission",
    "Public Health England", "Health Education England", "Department of Health", "Healthwatch", "Monitor",
    "Treasury", "Parliament", "Whitehall", "Westminster", "Government", "Brexit", "Five Year Forward View",
    "England", "Wales", "Scotland", "London", "Midlands", "East", "North", "South", "West", "British",
)
