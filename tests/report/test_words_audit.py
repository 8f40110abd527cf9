"""The insight pack says codes and field names as words (issue 16 audit: the demo's pack
showed the scenarios' kinds as ``what_if`` and ``optimised`` and a sentence with
``(expected_engaged_with_room)``; an empty list as nothing after its label)."""

from __future__ import annotations

from types import SimpleNamespace

from everyfamily.report.build import _environment
from everyfamily.report.words import line_words


def test_codes_and_bracketed_field_names_become_words() -> None:
    assert line_words("what_if") == "What if"
    assert line_words("optimised") == "Optimised"
    assert line_words("baseline") == "Today"
    said = line_words("every option shows the children who fit (expected_engaged_with_room), and")
    assert said == "every option shows the children who fit (expected engaged with room), and"
    # settings, commands and file names stay as a reader must type them
    kept = "No previous run was named (project.previous_run_path, or `everyfamily run`)."
    assert line_words(kept) == kept
    assert line_words("Tables: overlap.csv, overlap_contacts.csv") == (
        "Tables: overlap.csv, overlap_contacts.csv"
    )


def test_the_plan_section_of_the_pack_says_the_kinds_in_words() -> None:
    notes = [
        "Capacity on (expected_engaged_with_room).",
        "Scenario\tKind\tSites",
        "Today's service\tbaseline\t12",
        "Close the least-used site\twhat_if\t11",
    ]
    section = SimpleNamespace(key="planning", title="Planning", notes=notes)
    html = _environment().get_template("sections/plan.html.j2").render(section=section)
    assert "<td>What if</td>" in html and "<td>Today</td>" in html
    assert "what_if" not in html and "baseline" not in html
    assert "(expected engaged with room)" in html and "expected_engaged" not in html
