"""Render docs/code-lists.md from the code lists themselves, so the reference cannot go stale.

Every value everyfamily recognises in a coded field without a value map is listed here, read
from the tables the pipeline uses (ingest/codelists.py, ingest/rules.py, schema.py,
origin_groups.py, reach/regions.py). ``everyfamily codes-doc --out docs/code-lists.md``
writes it; a test fails when the file differs from what this renders.
"""

from __future__ import annotations

from collections.abc import Iterable

from everyfamily.communities.groups import (
    COUNTRY_GROUPS,
    ENGLISH_LANGUAGES,
    ETHNICITY_GROUP,
    GROUP_LABELS,
    HOME_COUNTRIES,
    LANGUAGE_GROUPS,
)
from everyfamily.ingest import codelists
from everyfamily.ingest.rules import BUILTIN_SEX
from everyfamily.ingest.standardise import CODED_FIELDS, MAPPABLE_FIELDS
from everyfamily.reach.regions import REGION_TABLE
from everyfamily.schema import (
    CANONICAL_FIELDS,
    CONSTANT_FIELDS,
    ETHNICITY_2021,
    SEX_VALUES,
)

_HEADER = """# Code lists: the values everyfamily reads without a value map

Generated from the code by `everyfamily codes-doc --out docs/code-lists.md`; a test checks it
is current. Matching ignores case, accents, punctuation and spacing: "N/K" and "n.k." are the
same value, and so are "White - Irish" and "WHITE: IRISH". A source's own `value_maps` entry
always wins over everything below; a value that none of these reads is kept as given (open
fields) or left empty (closed fields: sex, ethnicity, interpreter_needed) and flagged
`unmapped_value`.

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _codes(values: Iterable[str]) -> str:
    return ", ".join(f"`{_cell(v)}`" for v in values)


def _section_fields() -> list[str]:
    lines = [
        "## Coded fields",
        "",
        "| field | kind | value map | may be a constant | built-in list |",
        "|---|---|---|---|---|",
    ]
    lists = {
        "sex": "[sex](#sex)",
        "ethnicity": "[ethnicity](#ethnicity)",
        "interpreter_needed": "[yes/no](#interpreter_needed)",
        "mother_country_of_birth": "[countries](#countries-mother_country_of_birth)",
        "main_language": "[languages](#languages-main_language)",
        "event_type": "none: free text, kept as given",
        "site": "none: the site ids of the project's sites file",
    }
    for f in CANONICAL_FIELDS:
        if f.name not in CODED_FIELDS:
            continue
        lines.append(
            f"| `{f.name}` | {f.kind} | {'yes' if f.name in MAPPABLE_FIELDS else 'no'} | "
            f"{'yes' if f.name in CONSTANT_FIELDS else 'no'} | {lists[f.name]} |"
        )
    lines += [
        "",
        "A source's `constants` may set these fields for every row: "
        + _codes(CONSTANT_FIELDS)
        + ". The value is read like a column's (value maps, the lists below, `date_formats`); "
        "one that reads as nothing stops the run with a configuration error.",
        "",
    ]
    return lines


def _section_missing() -> list[str]:
    return [
        "## Missing values (every coded field)",
        "",
        "Read as not recorded (empty; `unknown` for sex), never as a category, and not flagged:",
        "",
        _codes(codelists.MISSING_VALUES) + ".",
        "",
        "Also any value with no letter or digit (`-`, `?`, `.`). For ethnicity only: "
        + _codes(codelists.ETHNICITY_MISSING_VALUES)
        + " (NHS Z Not stated, 99 Not known; DfE REFU, NOBT). Bare `NA` is not missing: it is "
        "Namibia's country code.",
        "",
        "A source's `extra_missing_values` **extends** this list (it never replaces it).",
        "",
    ]


def _section_sex() -> list[str]:
    lines = ["## sex", "", f"Canonical values: {_codes(SEX_VALUES)}. Built-in readings:", ""]
    lines += ["| recorded | read as |", "|---|---|"]
    lines += [f"| `{k}` | `{v}` |" for k, v in BUILTIN_SEX.items()]
    return [*lines, ""]


def _section_ethnicity() -> list[str]:
    lines = [
        "## ethnicity",
        "",
        "Canonical values: the ONS 2021 categories (19), stored by key. Recognised: the key, "
        "the short label, the full ONS 2021 label (Census 2021 TS021), the ONS 2011 label "
        "(KS201EW), the NHS Data Dictionary ETHNIC CATEGORY letter or label, the DfE CBDS code "
        "or label, a group heading with a category (below) in either order, and the short "
        "forms below.",
        "",
        "| key | short label | broad group | ONS 2021 full label and wording | ONS 2011 label |",
        "|---|---|---|---|---|",
    ]
    for key, (label, broad) in ETHNICITY_2021.items():
        full = "; ".join(codelists.ONS_2021_LABELS[key])
        old = "; ".join(codelists.ONS_2011_LABELS.get(key, ("(none: in Other White)",)))
        lines.append(f"| `{key}` | {label} | {broad} | {_cell(full)} | {_cell(old)} |")
    lines += [
        "",
        "NHS Data Dictionary ETHNIC CATEGORY (2001 Census categories):",
        "",
        "| letter | label | read as |",
        "|---|---|---|",
    ]
    for letter, (label, key) in codelists.NHS_ETHNIC_CATEGORY.items():
        lines.append(f"| `{letter}` | {_cell(label)} | `{key}` |")
    lines += ["", "DfE CBDS ethnicity codes:", "", "| code | label | read as |", "|---|---|---|"]
    for code, (label, key) in codelists.DFE_ETHNICITY_CODES.items():
        lines.append(f"| `{code}` | {_cell(label)} | `{key}` |")
    lines += [
        "",
        "Group headings and the categories under them (`White: Irish`, `Irish - White`, "
        "`Asian or Asian British - Other`):",
        "",
        "| broad group | headings | category wordings |",
        "|---|---|---|",
    ]
    for broad, heads in codelists.ETHNICITY_HEADS.items():
        tails = "; ".join(
            f"`{key}`: " + ", ".join(_cell(t) for t in ts)
            for key, ts in codelists.ETHNICITY_TAILS[broad].items()
        )
        lines.append(f"| {broad} | {_codes(heads)} | {tails} |")
    lines += ["", "Short forms read on their own:", "", "| key | forms |", "|---|---|"]
    for key, forms in codelists.ETHNICITY_SHORT_FORMS.items():
        lines.append(f"| `{key}` | {_codes(forms)} |")
    lines += [
        "",
        "Nothing is guessed from part of a value: local extensions such as `C3 Polish` need "
        "a value map.",
        "",
    ]
    return lines


def _section_yes_no() -> list[str]:
    lines = ["## interpreter_needed", "", "Stored as true / false. Readings:", ""]
    for answer, values in codelists.YES_NO_VALUES.items():
        lines.append(f"- **{answer}**: {_codes(values)}")
    return [*lines, ""]


def _section_countries() -> list[str]:
    lines = [
        "## Countries (mother_country_of_birth)",
        "",
        "Kept as recorded (after missing values); read by two tables. Region of birth "
        "(reach by `mother_region_of_birth`; ONS migration groupings), matched by name, alias "
        "or ISO 3166 alpha-2/alpha-3 code; a country not listed is `other`:",
        "",
        "| region | countries (names, aliases: codes) |",
        "|---|---|",
    ]
    for region, entries in REGION_TABLE.items():
        lines.append(f"| `{region}` | {_cell('; '.join(entries))} |")
    lines += [
        "",
        "Origin group (communities signals); the UK and Ireland say nothing about origin ("
        + _codes(sorted(HOME_COUNTRIES))
        + "); a country not listed is `other`:",
        "",
        "| group | countries and codes |",
        "|---|---|",
    ]
    for group, names in COUNTRY_GROUPS.items():
        lines.append(f"| `{group}` ({GROUP_LABELS[group]}) | {_codes(names)} |")
    return [*lines, ""]


def _section_languages() -> list[str]:
    lines = [
        "## Languages (main_language)",
        "",
        "Kept as recorded (after missing values). Origin group (communities signals); English ("
        + _codes(sorted(ENGLISH_LANGUAGES))
        + ") says nothing about origin; a language not listed is `other`:",
        "",
        "| group | languages |",
        "|---|---|",
    ]
    for group, names in LANGUAGE_GROUPS.items():
        lines.append(f"| `{group}` ({GROUP_LABELS[group]}) | {_codes(names)} |")
    lines += [
        "",
        "Ethnicity categories that point to one origin group (the others fall through to the "
        "next signal): " + ", ".join(f"`{k}` -> `{v}`" for k, v in ETHNICITY_GROUP.items()) + ".",
        "",
    ]
    return lines


def _section_placeholders() -> list[str]:
    return [
        "## Placeholder names",
        "",
        "Read as missing (they neither link nor count as names; the row is flagged "
        "`placeholder_name`, and without another name or an NHS number it is quarantined as "
        "`missing_identity`). Compared ignoring case, accents and punctuation; a trailing `*` "
        "matches any name that starts with the words before it.",
        "",
        "Given names (`first_name`, `parent_first_name`): "
        + _codes(codelists.PLACEHOLDER_NAMES)
        + ".",
        "",
        "Family names (`last_name`, `parent_last_name`), only the 'not known' kind, because "
        "Baby, Twin and the like are real family names: "
        + _codes(codelists.PLACEHOLDER_FAMILY_NAMES)
        + ".",
        "",
        "A source's `extra_placeholder_names` **extends** both lists (it never replaces them).",
        "",
    ]


def render_code_lists_doc() -> str:
    lines = [
        *_section_fields(),
        *_section_missing(),
        *_section_sex(),
        *_section_ethnicity(),
        *_section_yes_no(),
        *_section_countries(),
        *_section_languages(),
        *_section_placeholders(),
    ]
    return _HEADER + "\n".join(lines).rstrip("\n") + "\n"
