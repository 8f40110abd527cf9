"""Split src/everyfamily/config.py into the package src/everyfamily/config/ (issue 19).

Used once, for the commit that made the package; kept so that a branch merged later that
still edits config.py can be merged the same way: restore the merged config.py (with the
other branch's new fields), delete src/everyfamily/config/, run

    python scripts/split_config.py .
    .venv/bin/ruff check --fix src/everyfamily/config src/everyfamily/settings_doc.py
    .venv/bin/ruff format src/everyfamily/config src/everyfamily/settings_doc.py
    .venv/bin/everyfamily settings-doc --out docs/settings.md   # must not change

A new top-level class or constant needs a group in GROUPS (the script stops and says so).
The settings_doc edit is skipped when it is already there.
"""
import ast, sys, re
from pathlib import Path

root = Path(sys.argv[1])
src = root / "src/everyfamily/config.py"
text = src.read_text()
lines = text.splitlines(keepends=True)
tree = ast.parse(text)
body = tree.body
# module docstring + imports header
doc_node = body[0]
assert isinstance(doc_node, ast.Expr)
imports = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
header_end = max(n.end_lineno for n in imports)
import_text = "".join(lines[doc_node.end_lineno:header_end]).strip("\n") + "\n"
import_text = import_text.replace("from __future__ import annotations\n", "")
defs = [n for n in body if n.lineno > header_end]

GROUPS = {
    "base": ["Strict", "_did_you_mean"],
    "project": ["ProjectInfo"],
    "geography": ["AreaLayer", "PostcodeLookup", "AreaHierarchy", "AreaNames", "GeographySettings"],
    "population": ["BirthsSettings", "PopulationSettings", "DeprivationSettings", "SitesSettings"],
    "sources": ["FileFormat", "SourceOptions", "SourceSettings"],
    "engagement": ["EngagementSettings"],
    "linkage": ["LinkageSettings"],
    "privacy": ["RoundingRule", "PrivacySettings"],
    "output": ["OutputSettings", "WebSettings"],
    "access": ["NetworkFormat", "NetworkFile", "ApproximateNetworkSettings", "AccessSettings"],
    "communities": ["CensusBaselineSettings", "CommunitiesSettings"],
    "whole": ["Project"],
}
DOCS = {
    "base": "The strict base of every settings block, and the spelling hint of its errors.",
    "project": "``project:``: the project's name, area and reference date.",
    "geography": "``geography:``: small areas, boundaries, the postcode lookup, the hierarchy.",
    "population": "``population:``, ``births:``, ``deprivation:``, ``sites:``: reference tables.",
    "sources": "``sources:``: each council extract, its columns, formats and value maps.",
    "engagement": "``engagement:``: who counts as engaged, and the age range.",
    "linkage": "``linkage:``: the record-linkage model and its thresholds.",
    "privacy": "``privacy:``: disclosure control, keys and encryption at rest.",
    "output": "``output:`` and ``web:``: the output folder and the dashboard.",
    "access": "``access:``: street networks, travel times and barriers.",
    "communities": "``communities:``: emerging-community detection.",
    "whole": "The whole project file (:class:`Project`), every block above.",
    "loading": "Reading the project file: bounded YAML with line numbers, paths resolved\n"
    "against the file's folder, errors with the key, the file and the line.",
}
owner = {}
for g, names in GROUPS.items():
    for nm in names:
        owner[nm] = g

def names_of(node):
    if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign):
        return [node.target.id]
    return []

chunks = {g: [] for g in list(GROUPS) + ["loading"]}
prev_end = header_end
loading = False
defined = {}
for node in defs:
    start = node.lineno
    if hasattr(node, "decorator_list") and node.decorator_list:
        start = min(d.lineno for d in node.decorator_list)
    chunk = "".join(lines[prev_end:node.end_lineno])
    prev_end = node.end_lineno
    nms = names_of(node)
    if "# --- Loading" in chunk:
        loading = True
    g = "loading" if loading and not (nms and nms[0] in owner) else None
    if g is None:
        g = owner.get(nms[0]) if nms else None
        if g is None:
            raise SystemExit(f"no group for {nms} at line {node.lineno}: add it to GROUPS")
    chunks[g].append(chunk)
    for nm in nms:
        defined[nm] = g
tail = "".join(lines[prev_end:])
chunks["loading"].append(tail)

pkg = root / "src/everyfamily/config"
pkg.mkdir()
def used_names(code):
    t = ast.parse(code)
    out = set()
    for n in ast.walk(t):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", n.value))
    return out
order = list(chunks)
for g in order:
    code = "".join(chunks[g]).strip("\n") + "\n"
    code_body = code
    need = {nm for nm in used_names(code_body) if nm in defined and defined[nm] != g}
    cross = ""
    by_mod = {}
    for nm in sorted(need):
        by_mod.setdefault(defined[nm], []).append(nm)
    for m, nms in sorted(by_mod.items()):
        cross += f"from everyfamily.config.{m} import {', '.join(nms)}\n"
    content = f'"""{DOCS[g]}"""\n\nfrom __future__ import annotations\n\n' + import_text + cross + "\n\n" + code_body
    (pkg / f"{g}.py").write_text(content)

# settings_doc: a model's type name without its config module
sd = root / "src/everyfamily/settings_doc.py"
t = sd.read_text()
already = "everyfamily\\.config\\.(?:" in t
old = '''    return (
        text.replace("typing.", "")
        .replace("pathlib.", "")
        .replace("datetime.", "")
        .replace("everyfamily.schema.", "")
        .replace("everyfamily.config.", "")
    )'''
assert already or old in t
t = t.replace(old, '''    text = (
        text.replace("typing.", "")
        .replace("pathlib.", "")
        .replace("datetime.", "")
        .replace("everyfamily.schema.", "")
    )
    # a settings model's module: everyfamily.config or one of its modules (config.access)
    return re.sub(r"everyfamily\\.config\\.(?:[a-z_]+\\.)?", "", text)''')
if not already:
    t = t.replace("import typing\n", "import re\nimport typing\n", 1)
sd.write_text(t)

# __init__: original docstring + re-exports
docstring = "".join(lines[: doc_node.end_lineno])
docstring = docstring.rstrip()[:-3].rstrip() + "\n\nOne module per settings group (``config.geography``, ``config.sources`` ...); every name\nis re-exported here, so ``from everyfamily.config import X`` is the one way to import it.\n\"\"\"\n"
public = sorted(defined)
init = docstring + "\nfrom __future__ import annotations\n\n"
by_mod = {}
for nm in public:
    by_mod.setdefault(defined[nm], []).append(nm)
for m in order:
    if m in by_mod:
        init += f"from everyfamily.config.{m} import (\n" + "".join(f"    {n},\n" for n in by_mod[m]) + ")\n"
init += "\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in sorted(public, key=str.lower)) + "]\n"
(pkg / "__init__.py").write_text(init)
src.unlink()
print("modules:", {g: len(c) for g, c in chunks.items()})
