"""The README as a newcomer reads it (issue 32): every link resolves, every command it gives runs.

The README keeps what the tool answers, the two commands, one picture, the headline table and links into
the docs (docs/); everything else lives in the docs pages. What it still shows is checked here or where
it is made: the quick start after `make demo` (tests/test_front_door.py), the Python block
(tests/test_api.py), the results table (tests/test_cli.py, make readme-results). Here: every relative
link names a file of the repository, every `make` target it names exists, every `airpicture` command it
shows parses with the command line's own parser and names shipped scenarios, and the public record's
answer it prints is what `airpicture infer` prints (slow: CI).
"""
import re
import shlex

import pytest

from conftest import ROOT

README = ROOT / "README.md"


def _text():
    return README.read_text(encoding="utf-8")


def _code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", _text(), flags=re.S)


def _commands():
    """Every ``airpicture ...`` command of the README: in its shell blocks (a line, or a ``$`` prompt's line)
    and in its inline code."""
    found = []
    for block in _code_blocks("sh"):
        for line in block.splitlines():
            line = line.removeprefix("$ ").split("#")[0].strip()
            if line.startswith("airpicture"):
                found.append(line)
    found += [c for c in re.findall(r"`(airpicture[^`]*)`", _text())]
    return found


def test_every_relative_link_of_the_readme_names_a_file_of_the_repository():
    links = re.findall(r"\]\(([^)\s]+)\)", _text())
    relative = [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    assert len(relative) >= 15, relative            # the docs table, the pictures, the sections' links
    missing = [link for link in relative if not (ROOT / link.split("#")[0]).exists()]
    assert not missing, f"README.md links to paths that do not exist: {missing}"
    # and the two pictures are committed images
    for picture in ("docs/map.png", "docs/infer.png"):
        assert f"]({picture})" in _text() and (ROOT / picture).stat().st_size > 10_000, picture


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M))
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)", _text()))
    assert {"demo", "test", "docs", "readme-results"} <= named, named
    assert named <= targets, f"the README names make targets the Makefile lacks: {named - targets}"


def test_every_airpicture_command_of_the_readme_parses_and_names_shipped_scenarios():
    from sim.catalog import resolve_scenario
    from sim.cli import build_parser
    commands = _commands()
    assert any(c.startswith("airpicture infer iraq_2012_record") for c in commands), commands
    for line in commands:
        words = shlex.split(line)[1:]
        if not words:
            continue                                  # the command's name alone
        if len(words) == 1:                           # a command named in the text (`airpicture serve`): its help
            with pytest.raises(SystemExit) as done:
                build_parser().parse_args([*words, "--help"])
            assert done.value.code == 0, line
            continue
        args = build_parser().parse_args(words)
        names = getattr(args, "scenarios", None) or [getattr(args, "scenario", None)]
        for name in names:
            if name is None:
                continue
            if "/" in name:                           # a path of the repository (a glob as the shell expands it)
                assert sorted(ROOT.glob(name)) if "*" in name else (ROOT / name).is_file(), line
            else:                                     # a shipped scenario's name: it runs from any folder
                assert resolve_scenario(name).is_file(), line


@pytest.mark.slow   # CI only (.ci/run): about 15 s
def test_the_public_records_answer_is_what_airpicture_infer_prints(run_cli, tmp_path, monkeypatch):
    # the README's block: the command as written, from an empty folder; every line but the timings
    block = next(b for b in _code_blocks("sh") if b.startswith("$ airpicture infer"))
    command, *shown = block.rstrip("\n").splitlines()
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*shlex.split(command.removeprefix("$ "))[1:])
    assert code == 0, err

    def untimed(lines):
        return [re.sub(r"; time: simulate [\d.]+ s, posterior [\d.]+ s$", "; time: ...", line) for line in lines]

    assert untimed(out.rstrip("\n").splitlines()) == untimed(shown)
