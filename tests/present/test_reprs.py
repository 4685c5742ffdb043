"""Jupyter-native results: a short repr and an HTML view for runs, scenarios and traces (#18 item 5)."""

from __future__ import annotations

from pathlib import Path

import statefulsim
from statefulsim.sim.trace import Trace


def test_short_reprs_instead_of_dataclass_dumps() -> None:
    result = statefulsim.run("quickstart")
    n = len(result.trace)  # the count changes with the model; the form is what is pinned
    assert n > 100
    assert repr(result) == f"<RunResult 'quickstart' seed 42: {n} records, expectations 9/9 ok>"
    assert repr(result.scenario) == ("<Scenario 'quickstart': 4 objects, 2 actions, 9 expectations, "
                                     "seed 42, until 300s>")
    assert repr(result.trace).startswith(f"<Trace: {n} records, t=0.000s..")
    assert repr(Trace()) == "<Trace: no records>"


def test_html_views() -> None:
    result = statefulsim.run("quickstart")
    page = result._repr_html_()
    assert "<table>" in page and "PodCreated in order mysql-0, mysql-1, mysql-2" in page
    assert "<svg" in page  # the timeline figure
    assert "<td>StatefulSet</td><td>mysql</td>" in result.scenario._repr_html_()
    trace_page = result.trace._repr_html_()
    assert "<td>PodCreated</td>" in trace_page


def test_html_escapes_names() -> None:
    trace = Trace()
    trace.append(0.0, "<b>odd</b>", {})
    assert "&lt;b&gt;odd&lt;/b&gt;" in trace._repr_html_() and "<b>odd</b>" not in trace._repr_html_()


def test_sweep_result_repr_and_html(tmp_path: Path) -> None:
    from helpers import short_quickstart
    from statefulsim.sweep import parse_axis, run_sweep

    small = short_quickstart(tmp_path, "60s", {"manifests[mysql].spec.replicas": 1})
    sweep = run_sweep(str(small), runs=3, workers=1, axes=[parse_axis("until=30s,60s")])
    assert repr(sweep) == "<SweepResult: 2 grid points over until × 3 seeds = 6 runs, 6 run now>"
    page = sweep._repr_html_()
    assert page.count("<tr>") == 3 and "until=30s" in page and "time_to_ready" in page
    assert len(page) < 4000  # a table, not a dump of every run


def test_show_run_is_not_echoed_again_in_a_notebook() -> None:
    from statefulsim.notebook import ShownFigures, show_run

    shown = show_run(statefulsim.run("quickstart"))
    assert isinstance(shown, ShownFigures) and len(shown) == 2
    timeline, replicas = shown
    assert timeline is not replicas
    assert shown._ipython_display_() is None and repr(shown) == "<2 figures, shown>"
    assert not isinstance(show_run(statefulsim.run("quickstart"), display=False), ShownFigures)
