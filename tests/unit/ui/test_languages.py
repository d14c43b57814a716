"""Every language file of the console and the widget has the same keys, and a language is one file.

The string tables are ES modules (`export default {...}`); Node imports them and prints their keys,
so nothing here has to parse JavaScript.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
APPS = {"agent-ui": ROOT / "agent-ui", "widget": ROOT / "widget"}
NODE = shutil.which("node")
# What widget/buildtools.mjs's langsPlugin picks up from src/lang/.
LANG_FILE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\.js$")

pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")


def lang_files(app: str) -> list[Path]:
    return sorted(p for p in (APPS[app] / "src" / "lang").iterdir() if LANG_FILE.match(p.name))


def keys(files: list[Path]) -> dict[str, set[str]]:
    script = (
        "const files = JSON.parse(process.argv[1]); const out = {};"
        "Promise.all(files.map(async (f) => { const m = await import(require('url').pathToFileURL(f));"
        " out[require('path').basename(f, '.js')] = Object.keys(m.default); }))"
        ".then(() => console.log(JSON.stringify(out)));"
    )
    result = subprocess.run(
        [str(NODE), "-e", script, json.dumps([str(f) for f in files])],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return {code: set(found) for code, found in json.loads(result.stdout).items()}


@pytest.mark.parametrize("app", sorted(APPS))
def test_every_language_has_every_key(app: str) -> None:
    files = lang_files(app)
    assert {"en", "es"} <= {f.stem for f in files}
    tables = keys(files)
    everything = set().union(*tables.values())
    missing = {code: sorted(everything - found) for code, found in tables.items() if everything - found}
    assert not missing, f"{app}: keys missing per language: {missing}"
    for code, found in tables.items():  # the console lists languages by _name; the widget has no menu
        assert app != "agent-ui" or "_name" in found, f"{app}/src/lang/{code}.js has no _name for the language menu"


@pytest.mark.parametrize("app", sorted(APPS))
def test_no_key_is_written_twice(app: str) -> None:
    """A repeated key in an object literal silently keeps the last one: a merge slip, not a choice."""
    for path in lang_files(app):
        names = re.findall(r"^\s+([A-Za-z_$][\w$]*)\s*:", path.read_text(encoding="utf-8"), re.M)
        twice = sorted({n for n in names if names.count(n) > 1})
        assert not twice, f"{path.relative_to(ROOT)} repeats {twice}"


def test_adding_a_language_is_adding_one_file() -> None:
    """Both builds read every src/lang/<code>.js (the console bundles them, the widget writes one file per
    language and bundles only their index); the apps import them only through i18n.js."""
    tools = (ROOT / "widget" / "buildtools.mjs").read_text(encoding="utf-8")
    assert "readdir(dir)" in tools and "charla:langs" in tools and "charla:lang-index" in tools
    reader = {
        "agent-ui": ("langsPlugin(join(src, 'lang'))", "charla:langs"),
        "widget": ("langTables(join(src, 'lang')", "charla:lang-index"),
    }
    for app, folder in APPS.items():
        build = (folder / "build.mjs").read_text(encoding="utf-8")
        call, module = reader[app]
        assert call in build, app
        sources = [p for p in (folder / "src").rglob("*.js") if p.parent.name != "lang"]
        importers = [p for p in sources if module in p.read_text(encoding="utf-8")]
        assert [p.name for p in importers] == ["i18n.js"], app
        # Nothing else names a language file: no hand-kept list to update.
        for p in sources:
            assert not re.search(r"lang/[a-z]{2,3}\.js", p.read_text(encoding="utf-8")), p


def test_the_plugin_really_picks_up_a_new_file(tmp_path: Path) -> None:
    """Runs langsPlugin's file filter over a folder with an extra language, as the build would."""
    for name in ("en.js", "es.js", "pt-BR.js", "README.md", "notes.txt"):
        (tmp_path / name).write_text("export default { _name: 'x' };\n", encoding="utf-8")
    script = (
        "import(require('url').pathToFileURL(process.argv[1])).then(async ({ langsPlugin }) => {"
        " let load; langsPlugin(process.argv[2]).setup({ onResolve() {}, onLoad(_, fn) { load = fn; } });"
        " console.log((await load()).contents); })"
    )
    result = subprocess.run(
        [str(NODE), "-e", script, str(ROOT / "widget" / "buildtools.mjs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert '"pt-br": l2' in result.stdout and "README" not in result.stdout and "notes" not in result.stdout
