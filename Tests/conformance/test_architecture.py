"""docs/Architecture.md's targets table is the module picture: it must be true to Package.swift (the manifest as
SwiftPM reads it), and Package.swift must say the same as the sources (every module a target imports is declared)."""
import json
import os
import re
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


@pytest.fixture(scope="module")
def manifest():
    dump = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(dump.stdout)


def _dependencies(target):
    names = set()
    for dependency in target["dependencies"]:
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                names.add(dependency[kind][0])
    return names


def _table():
    """Each row of the targets table: the target names of its first column -> the text of its 'may depend on'."""
    text = open(os.path.join(ROOT, "docs", "Architecture.md")).read()
    section = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("target", "---"):
            continue
        for name in re.findall(r"`([^`/]+)`", cells[0]):
            rows[name] = cells[-1]
    return rows


def test_every_target_has_a_row_naming_each_target_it_depends_on(manifest):
    rows = _table()
    own = {target["name"] for target in manifest["targets"]}
    for target in manifest["targets"]:
        if target["type"] in ("test", "system"):
            continue
        assert target["name"] in rows, f"{target['name']} has no row in Architecture.md's targets table"
        listed = set(re.findall(r"[A-Za-z][A-Za-z0-9_-]*", rows[target["name"]]))
        missing = sorted((_dependencies(target) & own) - listed)
        assert not missing, f"{target['name']} depends on {missing}, which its row does not name"


def test_every_row_names_a_target(manifest):
    own = {target["name"] for target in manifest["targets"]}
    stale = sorted(set(_table()) - own - {"*Tests"})
    assert not stale, f"Architecture.md lists targets Package.swift does not have: {stale}"


def test_every_imported_module_is_declared(manifest):
    """A target imports only itself's declared dependencies (and the system's): no module reached by accident."""
    system = {"Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "Synchronization", "Testing",
              "XCTest", "_Concurrency", "Observation", "os"}
    products = {}
    for target in manifest["targets"]:
        for dependency in target["dependencies"]:
            if "product" in dependency:
                products.setdefault(target["name"], set()).add(dependency["product"][0])
    problems = []
    for target in manifest["targets"]:
        if target["type"] == "system":
            continue
        path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
        declared = _dependencies(target) | system | {target["name"]}
        for folder, _, files in os.walk(os.path.join(ROOT, path)):
            for file in files:
                if not file.endswith(".swift"):
                    continue
                for line in open(os.path.join(folder, file)):
                    found = re.match(r"^(?:@\w+(?:\([^)]*\))? )*(?:public |package |internal |private )?import (\w+)", line)
                    if found and found.group(1) not in declared:
                        problems.append(f"{target['name']}: {os.path.join(folder, file)[len(ROOT) + 1:]} imports {found.group(1)}")
    assert not problems, "\n".join(sorted(set(problems)))

