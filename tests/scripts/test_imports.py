"""No import cycle in scripts/: the core of benchlib imports no report section, and no two modules import each
other, at module level or inside a function (an import moved into a function hides a cycle; it does not remove it).

Imports are read with ast, not executed: every `import` and `from ... import` of a module of scripts/ (the entry
scripts and benchlib), wherever it stands in the file.
"""

import ast
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts")

# The modules no report section may be imported by (benchlib/__init__.py says why: a section is added with one
# module and one line of the registry, and the analysis it reads must not depend on it).
CORE = ("description", "gbjson", "stats", "summary", "mdformat", "plots", "section")


def modules(root):
    """{dotted name: path} of every Python file under root ("benchlib.sections.busy", "report" for report.py)."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, root)[: -len(".py")].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(name, path, known):
    """The modules of `known` that module `name` (at `path`) imports, anywhere in the file."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}" if base else alias.name
                if target in known:
                    out.add(target)  # a module: from benchlib import summary
                elif base in known:
                    out.add(base)  # a name of a module: from .summary import MB
    out.discard(name)
    return out


def graph(root):
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges):
    """Every cycle of the import graph, each as [a, b, ..., a], one per strongly connected component (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_path(edges, set(component)))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _path(edges, component):
    """A cycle through a strongly connected component, to name it in a message."""
    start = min(component)
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in edges[path[-1]] if w in component)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return path + [start]
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            return path + [nxt[0]]
        path.append(fresh[0])
        seen.add(fresh[0])


def sections_reached_by_core(edges):
    """[(core module, section module)] for every section a core module imports, directly or through others."""
    out = []
    for c in sorted(f"benchlib.{name}" for name in CORE):
        reached, todo = set(), [c]
        while todo:
            for w in edges.get(todo.pop(), ()):
                if w not in reached:
                    reached.add(w)
                    todo.append(w)
        out += [(c, m) for m in sorted(reached) if m == "benchlib.sections" or m.startswith("benchlib.sections.")]
    return out


class TestImportCycles(unittest.TestCase):
    def test_no_import_cycle_in_scripts(self):
        edges = graph(SCRIPTS)
        self.assertIn("benchlib.summary", edges, "the graph reads scripts/benchlib")
        found = cycles(edges)
        self.assertEqual(found, [], "import cycles: " + "; ".join(" -> ".join(c) for c in found))

    def test_the_core_imports_no_section(self):
        edges = graph(SCRIPTS)
        self.assertIn("benchlib.sections.busy", edges, "the sections are where the core must not reach")
        self.assertEqual(sections_reached_by_core(edges), [])

    def test_a_cycle_hidden_in_a_function_is_found(self):
        """The check itself: two modules importing each other, one of them inside a function, as summary.py and
        busy.py once did; and a relative import two levels up."""
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "pkg", "sub"))
            files = {
                "pkg/__init__.py": "",
                "pkg/core.py": "def plan():\n    from .sub import part  # hidden\n    return part\n",
                "pkg/sub/__init__.py": "",
                "pkg/sub/part.py": "from ..core import plan\n",
                "pkg/other.py": "from pkg import core\n",
            }
            for name, text in files.items():
                with open(os.path.join(root, name), "w") as f:
                    f.write(text)
            edges = graph(root)
            self.assertEqual(edges["pkg.sub.part"], {"pkg.core"})
            self.assertEqual(edges["pkg.other"], {"pkg.core"})
            self.assertEqual(cycles(edges), [["pkg.core", "pkg.sub.part", "pkg.core"]])


if __name__ == "__main__":
    unittest.main()
