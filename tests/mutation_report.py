"""`make mutation`'s report: the score, and every surviving mutant with what it changed.

mutmut keeps its verdicts in ``mutants/**/*.meta`` and every mutant's source beside the
original in ``mutants/app/...``. This reads both and prints Markdown: the counts, then
each survivor with the one change it makes (``a == b`` -> ``a != b``) and a kind, so a
reviewer reads a list, not 1,000 diffs. The kind is mechanical (it is what the change
touches). A survivor that no test should kill is explained, one line each, in
``tests/mutation_explained.tsv`` (``name<TAB>kind<TAB>reason``: equivalent, message,
import-time, other); the report shows those apart from the ones nobody has handled yet.

    .venv/bin/python tests/mutation_report.py [mutants] > docs/mutation-survivors.md
"""

from __future__ import annotations

import ast
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 37: "caught by type check", -24: "timeout",
          24: "timeout", 152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault",
          None: "not checked"}

#: Kinds, in the order the report lists them.
IMPORT_TIME = "runs at import"
MESSAGE = "message text"
LOG = "log or metric"
KEY = "string value"
OTHER = "logic"


EXPLAINED = Path(__file__).with_name("mutation_explained.tsv")


def explanations() -> dict[str, tuple[str, str]]:
    """name -> (kind, reason) of the survivors explained by hand."""
    if not EXPLAINED.exists():
        return {}
    rows = (line.split("\t") for line in EXPLAINED.read_text().splitlines() if line.strip())
    return {row[0]: (row[1], row[2] if len(row) > 2 else "") for row in rows}


def verdicts(root: Path) -> dict[str, str]:
    out = {}
    for meta in root.glob("app/**/*.meta"):
        for key, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
            out[key] = STATUS.get(code, "suspicious")
    return out


def _functions(root: Path) -> dict[str, tuple[ast.AST, str, Path]]:
    """mangled name -> (function node, source, file) for originals and mutants."""
    found = {}
    for path in root.glob("app/**/*.py"):
        source = path.read_text()
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name:
                found[f"{module}.{node.name}"] = (node, source, path)
    return found


def _import_time_calls(root: Path) -> set[str]:
    """Functions a module calls at its top level: mutmut switches a mutant on only
    after the import, so these mutants can never run (mangled prefix)."""
    calls = set()
    for path in root.glob("app/**/*.py"):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        tree = ast.parse(path.read_text())
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
                if isinstance(statement, ast.FunctionDef):  # decorators run at import
                    for decorator in statement.decorator_list:
                        for node in ast.walk(decorator):
                            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                                calls.add(f"{module}.x_{node.func.id}")
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    calls.add(f"{module}.x_{node.func.id}")
    return calls


def _first_difference(a: ast.AST, b: ast.AST) -> tuple[ast.AST | None, ast.AST | None]:
    if type(a) is not type(b):
        return a, b
    for field in a._fields:
        x, y = getattr(a, field, None), getattr(b, field, None)
        if isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return a, b
            for p, q in zip(x, y, strict=True):
                if isinstance(p, ast.AST):
                    found = _first_difference(p, q)
                    if found != (None, None):
                        return found
                elif p != q:
                    return a, b
        elif isinstance(x, ast.AST) and isinstance(y, ast.AST):
            found = _first_difference(x, y)
            if found != (None, None):
                return found
        elif isinstance(x, ast.AST) or isinstance(y, ast.AST) or (
                field not in ("lineno", "col_offset", "end_lineno", "end_col_offset", "name")
                and x != y):
            return a, b
    return None, None


def _text(node: ast.AST | None) -> str:
    if node is None:
        return "(nothing)"
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 90 else text[:87] + "..."


def _inside_call_to(function: ast.AST, target: ast.AST, names: tuple[str, ...]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            callee = ast.unparse(node.func)
            if any(callee.endswith(n) for n in names) and any(
                    sub is target for sub in ast.walk(node)):
                return True
    return False


def classify(name: str, functions: dict, import_time: set[str]) -> tuple[str, str, str]:
    """(kind, original fragment, mutated fragment) of one mutant."""
    base = name.rsplit("__mutmut_", 1)[0]
    module, _, function = base.rpartition(".")
    mutant = functions.get(f"{module}.{function}__mutmut_{name.rsplit('__mutmut_', 1)[1]}")
    original = functions.get(f"{module}.{function}__mutmut_orig")
    if mutant is None or original is None:
        return OTHER, "?", "?"
    before, after = _first_difference(original[0], mutant[0])
    if base in import_time:
        return IMPORT_TIME, _text(before), _text(after)
    strings = isinstance(before, ast.Constant) and isinstance(before.value, str) and (
        after is None or isinstance(after, ast.Constant))
    if strings:
        if _inside_call_to(original[0], before, ("log.info", "log.warning", "log.error",
                                                 "log.exception", "log.debug", "metrics.")):
            return LOG, _text(before), _text(after)
        if " " in before.value or len(before.value) > 40:
            return MESSAGE, _text(before), _text(after)
        return KEY, _text(before), _text(after)
    return OTHER, _text(before), _text(after)


def report(root: Path) -> str:
    status = verdicts(root)
    counts = Counter(status.values())
    functions = _functions(root)
    import_time = _import_time_calls(root)
    survivors = sorted(k for k, v in status.items() if v == "survived")
    explained = explanations()
    by_kind: dict[str, list] = defaultdict(list)
    reasons: dict[str, list] = defaultdict(list)
    for name in survivors:
        kind, before, after = classify(name, functions, import_time)
        if name in explained:
            reasons[explained[name][0]].append((name, explained[name][1], before, after))
        else:
            by_kind[kind].append((name, before, after))
    tested = counts["killed"] + counts["survived"] + counts["timeout"]
    killed = counts["killed"] + counts["timeout"]
    lines = ["# Surviving mutants (generated by tests/mutation_report.py)", "",
             f"{len(status)} mutants; {killed} killed (timeouts included) of {tested} that a "
             f"test reaches: **{100 * killed / max(tested, 1):.1f} %**; "
             f"{counts['no tests']} reached by no selected test.", "",
             "| verdict | mutants |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in counts.most_common()]
    lines += ["", f"{len(survivors)} survivors: {len(survivors) - sum(map(len, by_kind.values()))} "
              f"explained in tests/mutation_explained.tsv, "
              f"{sum(map(len, by_kind.values()))} not handled yet.", "",
              "| survivor | mutants |", "|---|---|"]
    lines += [f"| explained: {k} | {len(v)} |" for k, v in sorted(reasons.items())]
    order = (IMPORT_TIME, MESSAGE, LOG, KEY, OTHER)
    lines += [f"| not handled: {k} | {len(by_kind[k])} |" for k in order if by_kind[k]]
    for kind in order:
        if not by_kind[kind]:
            continue
        lines += ["", f"## Not handled: {kind}", "", "| mutant | original | mutated |",
                  "|---|---|---|"]
        lines += [f"| `{n}` | `{b}` | `{a}` |".replace("|`", "| `") for n, b, a in by_kind[kind]]
    for kind, rows in sorted(reasons.items()):
        lines += ["", f"## Explained: {kind}", "", "| mutant | change | why no test kills it |",
                  "|---|---|---|"]
        lines += [f"| `{n}` | `{b}` -> `{a}` | {r} |" for n, r, b, a in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(report(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants")))
