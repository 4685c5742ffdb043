"""One `kubectl get pods -w` text (statefulsim.io.kubectl_tables) for `--view pods` and for the
recordings written for calibrate, and the text importer reading it back (docs/views.md,
docs/importers.md)."""

from __future__ import annotations

from pathlib import Path

from statefulsim.io.importers import parse_pods_text
from statefulsim.io.kubectl_export import pods_watch_text
from statefulsim.io.scenario import load_scenario
from statefulsim.present.kubectl_views import VIEWS, ViewOptions
from statefulsim.runner import run

ROOT = Path(__file__).resolve().parents[2]


def test_the_recordings_text_is_the_pods_view() -> None:
    r = run(load_scenario(ROOT / "scenarios" / "quickstart.yaml"))
    assert pods_watch_text(r.trace) == "".join(line + "\n" for line in VIEWS.get("pods").lines(r.trace, ViewOptions()))
    golden = (ROOT / "tests" / "golden" / "quickstart_view_pods.txt").read_text()
    assert pods_watch_text(r.trace) == golden


def test_a_deleted_pods_terminal_rows_are_the_same_pod() -> None:
    """kubectl 1.27+ prints a deleted pod whose containers exited as Completed (and once more on
    its deletion), not Terminating: those rows are not a new incarnation of the name."""
    text = (ROOT / "tests" / "golden" / "quickstart_view_pods.txt").read_text()
    assert "Completed" in text
    rec = parse_pods_text(text, "view.txt")
    created = [r.fields["pod"] for r in rec.records if r.event == "PodCreated"]
    assert created == ["mysql-0", "mysql-1", "mysql-2"]
    assert not [r for r in rec.records if r.event == "PodFirstSeen"]
    assert not any("replaced unseen" in n for n in rec.notes)
    # a new incarnation after the Completed rows is still one
    again = text + "mysql-2   0/1     Pending             0          0s\n"
    assert [r.fields["pod"] for r in parse_pods_text(again, "v.txt").records
            if r.event == "PodCreated"].count("mysql-2") == 2
