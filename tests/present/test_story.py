"""The report's "In short" paragraph (present/story.py): each sentence follows the trace."""

from __future__ import annotations

import pathlib

from helpers import run, statefulset
from statefulsim.analysis.dns import dns_visibility
from statefulsim.io.scenario import load_scenario
from statefulsim.present.story import story
from statefulsim.runner import run as run_scenario

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_quickstart_story_tells_order_claims_dns_and_the_scale_down() -> None:
    result = run_scenario(load_scenario(ROOT / "scenarios" / "quickstart.yaml"))
    text = " ".join(story(result.trace))
    assert "StatefulSet mysql (OrderedReady) created 3 pods (mysql-0, mysql-1 and mysql-2) one at a time" in text
    assert "3 claims (mysql-data-mysql-0, mysql-data-mysql-1 and mysql-data-mysql-2) were created and bound, " \
           "each before its pod ran." in text
    name = "mysql-1.mysql-headless.default.svc.cluster.local"
    v = dns_visibility(result.trace, name, "mysql-1")
    assert v.delay is not None and v.negative_answers_before > 0
    assert f"{name} answered NXDOMAIN {v.negative_answers_before} times, then with its address" in text
    assert "mysql-2, mysql-1 and mysql-0 stopped in that order" in text
    assert "The 3 claims were kept" in text
    # the sentences come in the order things happened
    assert text.index("one at a time") < text.index("NXDOMAIN") < text.index("stopped in that order")


def test_parallel_story_says_at_once_and_a_stuck_set_is_named() -> None:
    text = " ".join(story(run(statefulset("web", 3, policy="Parallel")).trace))
    assert "created 3 pods (web-0, web-1 and web-2) at once." in text
    stuck = run_scenario(load_scenario(ROOT / "scenarios" / "crashloop-backoff.yaml"))
    sentences = story(stuck.trace)
    assert any("is stuck" in s for s in sentences), sentences
