"""Every ``statefulsim`` command quoted in README.md and docs/ runs as the page says (#18 §3).

A command is a line of a ``sh`` block, or a ``$ statefulsim ...`` line of a transcript block (the
lines after it, up to the next ``$``, are what it prints).  Each page's commands run in order, in a
fresh directory where ``scenarios/`` is the bundled folder, so a page can write a trace and read it
in its next command, as a reader following it would.  A command must exit 0, or non-zero when its
transcript shows an ``error:`` line (or ``$ echo $?`` shows the code); every line a transcript
quotes (``...`` marks a cut) must be in what the command prints.

Not run, each for a stated reason (:data:`NOT_RUN`): command synopses (``SCENARIO.yaml``,
``[--seed N]``), commands that read files recorded with kubectl on a cluster, and those that name
the reader's own scenario and plug-in module.  ``--runs`` of a sweep or compare is cut to 4 so the
suite stays fast (the command is otherwise the page's).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from statefulsim.cli import cli

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

#: Commands (their text as the page has it) not run, and why.
NOT_RUN: dict[str, str] = {
    "statefulsim calibrate pods-watch.json events.json -o timing.yaml": "reads files recorded with kubectl on a cluster",
    "statefulsim check pods.json events.json --policy OrderedReady": "reads files recorded with kubectl on a cluster",
    "statefulsim sweep my-scenario.yaml --runs 200 --workers 2 --plugin mypolicies":
        "the reader's own scenario and plug-in module",
    "statefulsim explore my-scenario.yaml --workers 2 --plugin mypolicies --plugin mypkg.verbs":
        "the reader's own scenario and plug-in module",
}

#: Commands a page shows that exit non-zero by design, with the code and why.
EXIT: dict[str, tuple[int, str]] = {
    "statefulsim explore scenarios/explore-forced-rollback.yaml --out replays/":
        (1, "the scenario is built to reach a deadlock; 1 is a finding (docs/explore.md, Exit codes)"),
}

#: Files a page's transcript reads that the page describes but does not make.
FIXTURES: dict[str, str] = {
    "broken.jsonl": '{"t": 0.0, "event": "TraceStart", "version": 1}\n{"t": "soon", "event": "PodCreated"}\n',
    "empty.jsonl": "",
}

_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(\.[a-z]+|\.\.\.)?$")


@dataclass
class Command:
    page: str
    line: int
    text: str
    quoted: list[str] = field(default_factory=list)
    exit_code: int | None = None  # from ``$ echo $?``

    @property
    def argv(self) -> list[str]:
        words = shlex.split(self.text, comments=True)
        for stop in ("|", "&&", ">", ";"):
            if stop in words:
                words = words[:words.index(stop)]
        return words[1:]

    @property
    def expects_error(self) -> bool:
        if self.exit_code is not None:
            return self.exit_code != 0
        if self.text in EXIT:
            return True
        return any(line.startswith("error:") for line in self.quoted)


def _synopsis(words: list[str]) -> bool:
    return any(w.startswith("[") or _PLACEHOLDER.match(w) for w in words)


def commands(page: str) -> list[Command]:
    """The page's statefulsim commands, in order."""
    text = (ROOT / page).read_text(encoding="utf-8")
    found: list[Command] = []
    for block in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
        lang, body = block.group(1), block.group(2)
        first = text[:block.start(2)].count("\n") + 1
        lines = body.splitlines()
        if lang in ("sh", "shell", "bash"):
            joined: list[tuple[int, str]] = []
            for i, line in enumerate(lines):
                if joined and joined[-1][1].endswith("\\"):
                    joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line.strip())
                else:
                    joined.append((first + i, line.strip()))
            for number, line in joined:
                if line.startswith("statefulsim ") and not _synopsis(shlex.split(line, comments=True)):
                    found.append(Command(page, number, line))
        elif lang in ("", "console"):
            current: Command | None = None
            for i, line in enumerate(lines):
                if line.startswith("$ "):
                    current = None
                    rest = line[2:].strip()
                    if rest.startswith("statefulsim "):
                        current = Command(page, first + i, rest)
                        found.append(current)
                    elif rest == "echo $?" and found and i + 1 < len(lines) and lines[i + 1].strip().isdigit():
                        found[-1].exit_code = int(lines[i + 1].strip())
                    elif found and found[-1].line == first + i - 1 - len(found[-1].quoted):
                        # a prompt the command itself prints (--view rollout's `$ kubectl rollout status`)
                        current = found[-1]
                        current.quoted.append(line)
                elif current is not None and line.strip():
                    current.quoted.append(line)
    return found


def test_the_pages_quote_commands() -> None:
    counted = {page: len(commands(page)) for page in PAGES}
    assert counted["README.md"] >= 2 and counted["docs/cli.md"] >= 8 and counted["docs/views.md"] >= 3, counted
    every = {c.text for page in PAGES for c in commands(page)}
    assert set(NOT_RUN) | set(EXIT) <= every, f"NOT_RUN or EXIT names commands no page has: {(set(NOT_RUN) | set(EXIT)) - every}"


def _shorter(argv: list[str]) -> list[str]:
    out = list(argv)
    if argv and argv[0] in ("sweep", "compare") and "--runs" in out:
        out[out.index("--runs") + 1] = "4"
    return out


def _normal(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("page", [p for p in PAGES if any(c.text not in NOT_RUN for c in commands(p))])
def test_every_command_runs_as_the_page_says(page: str, tmp_path: pathlib.Path) -> None:
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    for name, content in FIXTURES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for command in commands(page):
            if command.text in NOT_RUN:
                continue
            where = f"{page}:{command.line}: {command.text}"
            result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, _shorter(command.argv))
            printed = result.output
            if command.expects_error:
                assert result.exit_code != 0, f"{where}: the page shows an error, the command exited 0"
                code = command.exit_code if command.exit_code is not None else EXIT.get(command.text, (None, ""))[0]
                if code is not None:
                    assert result.exit_code == code, f"{where}: exit {result.exit_code}\n{printed}"
            else:
                assert result.exit_code == 0, f"{where}: exit {result.exit_code}\n{printed}{result.exception!r}"
            if "| jq" in command.text:
                json.loads(printed)
            whole = _normal(printed)
            for line in command.quoted:
                if line.strip() == "...":
                    continue
                assert _normal(line) in whole, f"{where}: the page quotes a line the command does not print:\n" \
                                               f"{line}\n--- printed ---\n{printed}"
    finally:
        os.chdir(cwd)
