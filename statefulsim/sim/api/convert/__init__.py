"""Turning plain manifest mappings (already loaded from YAML) into the frozen API objects.

Pure code, no I/O.  Every reader takes the key path of the value it reads and records problems
in a :class:`~statefulsim.problems.Problems` collector, so one pass reports everything wrong.
Rules:

* Unknown fields are ignored (real manifests must load unchanged); only the fields the
  simulator reads are type-checked.
* API defaults are applied per API version (reference: statefulset-controller §1.4,
  pods-probes-dns-volumes §1.5 and §2.1), and the validation the API server would do on the
  fields read here is reported as problems.

The readers are split by kind of object (the former ``# ----`` sections of one file):
:mod:`._helpers` (shared constants and small readers), :mod:`.quantities`, :mod:`.metadata`
(metadata, selectors), :mod:`.containers`, :mod:`.pods`, :mod:`.statefulsets`, :mod:`.services`
(Services, Nodes), :mod:`.policy` (PodDisruptionBudgets) and :mod:`.dispatch`
(:func:`object_from_manifest`). Import from this package, not from the parts.
"""

from __future__ import annotations

from statefulsim.sim.api.convert._helpers import (
    STATEFULSET_API_VERSIONS,
    to_plain,
)
from statefulsim.sim.api.convert.containers import (
    default_image_pull_policy,
)
from statefulsim.sim.api.convert.dispatch import (
    object_from_manifest,
    warn_unsimulated,
)
from statefulsim.sim.api.convert.metadata import (
    parse_label_selector,
    parse_metadata,
)
from statefulsim.sim.api.convert.pods import (
    parse_pod,
    parse_pod_spec,
    parse_pod_template,
)
from statefulsim.sim.api.convert.policy import (
    parse_pod_disruption_budget,
)
from statefulsim.sim.api.convert.quantities import (
    parse_quantity_cpu,
    parse_quantity_memory,
)
from statefulsim.sim.api.convert.services import (
    parse_node,
    parse_service,
)
from statefulsim.sim.api.convert.statefulsets import (
    parse_statefulset,
    parse_statefulset_spec,
)

__all__ = [
    "STATEFULSET_API_VERSIONS",
    "default_image_pull_policy",
    "object_from_manifest",
    "parse_label_selector",
    "parse_metadata",
    "parse_node",
    "parse_pod",
    "parse_pod_disruption_budget",
    "parse_pod_spec",
    "parse_pod_template",
    "parse_quantity_cpu",
    "parse_quantity_memory",
    "parse_service",
    "parse_statefulset",
    "parse_statefulset_spec",
    "to_plain",
    "warn_unsimulated",
]
