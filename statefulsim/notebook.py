"""Small conveniences for notebooks and interactive use (outside the simulation core).

* :func:`records_table`: a run's trace (optionally only some events and columns) as a
  ``pandas.DataFrame`` when pandas is installed, else as the plain list of dicts.
* :func:`scenario_from_data`: a scenario from a Python dict (as YAML would load it), so a notebook
  can vary a field in a loop without writing files.
* :func:`time_to_all_ready`: seconds from a StatefulSet's creation until it was first rolled out
  (all desired replicas Ready at the update revision, ``kubectl rollout status``'s rule).
* :func:`show_run`: the timeline and the replicas figure of a run, displayed in a notebook and
  returned.
* :func:`side_by_side`: several figures next to each other in one figure.
* :func:`examples_dir`: the folder of the bundled scenarios and manifests (package data), so a
  notebook finds them from any directory, in a checkout or after ``pip install``.
* :func:`inline_figures`: in Jupyter, matplotlib Figures returned by a cell display as images
  (called by the two functions above).

Neither pandas, matplotlib nor IPython is imported until a function needs it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Sequence

from statefulsim.runner import RunResult
from statefulsim.sim.trace import Trace

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from statefulsim.model.scenario import Scenario

__all__ = ["examples_dir", "inline_figures", "records_table", "scenario_from_data", "show_run", "side_by_side",
           "time_to_all_ready"]


def _records(source: RunResult | Trace | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(source, RunResult):
        return source.records()
    if isinstance(source, Trace):
        return [r.as_dict() for r in source]
    return [dict(r) for r in source]


def examples_dir() -> Path:
    """The directory of the bundled scenarios and their manifests (``statefulsim examples`` lists
    them): ``examples_dir() / "manifests" / "web.yaml"`` is the tutorial's nginx set."""
    from statefulsim.io.bundled import bundled_dir

    return bundled_dir()


def records_table(source: RunResult | Trace | Sequence[dict[str, Any]], *, events: Collection[str] | None = None,
                  columns: Sequence[str] | None = None, pandas: bool | None = None) -> Any:
    """The trace records of ``source`` as a table.

    ``events`` keeps only records of those event types; ``columns`` keeps (and orders) only those
    fields (``t`` and ``event`` are always present; a field a record lacks is ``None``).  The result
    is a ``pandas.DataFrame`` when pandas is importable (or ``pandas=True``, which then requires
    it), otherwise (or with ``pandas=False``) a list of dicts.
    """
    rows = _records(source)
    if events is not None:
        wanted = set(events)
        rows = [r for r in rows if r.get("event") in wanted]
    if columns is not None:
        keys = list(dict.fromkeys(["t", "event", *columns]))
        rows = [{k: r.get(k) for k in keys} for r in rows]
    if pandas is False:
        return rows
    try:
        pd: Any = importlib.import_module("pandas")
    except ImportError:
        if pandas:
            raise
        return rows
    return pd.DataFrame(rows, columns=keys if columns is not None else None)


def scenario_from_data(data: dict[str, Any], *, base_dir: str | os.PathLike[str] = ".",
                       file: str = "<scenario data>") -> Scenario:
    """A :class:`~statefulsim.Scenario` from a dict shaped like a scenario file (``{file: ...}``
    manifests resolve against ``base_dir``).  Validated exactly like a file: raises
    :class:`~statefulsim.ScenarioError` listing every problem by key path (there are no lines
    to point at)."""
    from statefulsim.io.scenario import load_scenario_data

    return load_scenario_data(data, file=file, base_dir=os.fspath(base_dir))


def time_to_all_ready(source: RunResult | Trace, statefulset: str | None = None) -> float | None:
    """Seconds from the creation of ``statefulset`` (default: the first StatefulSet in the trace)
    until it was first all ready by ``kubectl rollout status``'s rule
    (:func:`statefulsim.analysis.metrics.time_to_all_ready`); None if that never happened."""
    from statefulsim.analysis.metrics import time_to_all_ready as metric

    return metric(source if isinstance(source, Trace) else source.trace, statefulset)


def _shell() -> Any:
    """The running IPython shell, or None (not in IPython, or IPython not installed)."""
    try:
        ipython: Any = importlib.import_module("IPython")
    except ImportError:
        return None
    return ipython.get_ipython()


def inline_figures() -> bool:
    """In IPython or Jupyter, make matplotlib Figures display as PNG images when a cell shows or
    returns them, as ``%matplotlib inline`` would, but without importing pyplot or changing the
    backend (the figures of :mod:`statefulsim.present.plots` draw on their own Agg canvas).  Leaves an
    existing figure format choice alone.  Returns whether figures now display as images."""
    shell = _shell()
    if shell is None:
        return False
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    if not any(Figure in f.type_printers for f in formatters.values()):
        pylabtools: Any = importlib.import_module("IPython.core.pylabtools")
        pylabtools.select_figure_formats(shell, {"png"}, bbox_inches="tight")
    return True


def _display(obj: Any) -> None:
    if inline_figures():
        ipy_display: Any = importlib.import_module("IPython.display")
        ipy_display.display(obj)


class ShownFigures(tuple):  # type: ignore[type-arg]
    """The figures :func:`show_run` has already displayed: a tuple (``timeline, replicas = ...``)
    that a notebook cell does not echo again as ``(<Figure ...>, <Figure ...>)``."""

    def _ipython_display_(self) -> None:
        """Already shown: display nothing."""

    def __repr__(self) -> str:
        return f"<{len(self)} figures, shown>"


def show_run(result: RunResult | Trace, *, quorum: int | None = None, statefulset: str | None = None,
             display: bool = True) -> tuple[Figure, Figure]:
    """The timeline (Gantt) and replicas figures of a run.  In a notebook (IPython running) both
    are displayed, one under the other, and the returned pair is not echoed again when it is
    the cell's last value; they are returned either way."""
    from statefulsim.present.plots import replicas_figure, timeline_figure

    figs = (timeline_figure(result, quorum=quorum),
            replicas_figure(result, quorum=quorum, statefulset=statefulset))
    if display:
        for fig in figs:
            _display(fig)
        return ShownFigures(figs)
    return figs


def side_by_side(figures: Sequence[Figure], *, titles: Sequence[str] | None = None, width: float = 16.0,
                 dpi: float = 90.0) -> Figure:
    """One figure with ``figures`` rendered next to each other (as images, each in its own panel,
    with an optional title above it): for comparing runs drawn by :mod:`statefulsim.present.plots`,
    whose figures cannot share axes."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    inline_figures()
    if not figures:
        raise ValueError("side_by_side needs at least one figure")
    if titles is not None and len(titles) != len(figures):
        raise ValueError(f"{len(titles)} titles for {len(figures)} figures")
    images = []
    for fig in figures:
        canvas: Any = FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        canvas.draw()
        images.append(np.asarray(canvas.buffer_rgba()))
    aspect = max(img.shape[0] / img.shape[1] for img in images)
    extra = 0.4 if titles else 0.0
    out = Figure(figsize=(width, width / len(images) * aspect + extra), layout="constrained")
    FigureCanvasAgg(out)
    axes = out.subplots(1, len(images), squeeze=False)[0]
    for i, (ax, img) in enumerate(zip(axes, images)):
        ax.imshow(img)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i])
    return out
