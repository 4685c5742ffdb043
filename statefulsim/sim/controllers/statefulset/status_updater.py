"""The status write of one sync: upstream ``stateful_set_status_updater.go``."""

from __future__ import annotations

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import StatefulSet, StatefulSetStatus, evolve
from statefulsim.sim.api.store import ApiClient
from statefulsim.sim.process import Gen


class StatusUpdater:
    """``realStatefulSetStatusUpdater``: writes a set's status subresource."""

    def __init__(self, client: ApiClient, sets: Informer) -> None:
        self.client = client
        self.sets = sets

    def update_stateful_set_status(self, sts: StatefulSet, status: StatefulSetStatus) -> Gen:
        """Write ``status`` onto the cached copy of ``sts`` (without a resourceVersion check);
        raises :class:`ApiError` when the API server refuses."""
        fresh = self.sets.get(sts.metadata.namespace, sts.metadata.name) or sts
        yield from self.client.update_status(evolve(fresh, status=status), check_version=False)
