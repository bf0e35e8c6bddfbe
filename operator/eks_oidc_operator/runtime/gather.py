"""Gathering: the EKS reads of one pass, performed. I/O, no decisions.

Which reads a pass makes, in which order, and what the answers make of the observation is pure
code (:func:`eks_oidc_operator.reconcile.reading.observe.observe`, a generator that yields each
read and is sent its answer); this loop only performs them against the pass's EKS port. An EKS
error ends gathering and is part of the observation: what it means is the rules' business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.reading.observe import observe
from eks_oidc_operator.reconcile.reading.reads import (
    DescribeCluster,
    DescribeConfig,
    DescribeUpdate,
    FindConfigUpdate,
    ListConfigs,
    Read,
)
from eks_oidc_operator.runtime.port import EksPort

_PERFORM: dict[type[Any], Callable[[EksPort, Any], object]] = {
    DescribeCluster: lambda eks, r: eks.describe_cluster(r.cluster),
    DescribeConfig: lambda eks, r: eks.describe_config(r.cluster, r.name),
    ListConfigs: lambda eks, r: eks.list_configs(r.cluster),
    DescribeUpdate: lambda eks, r: eks.describe_update(r.cluster, r.update_id),
    FindConfigUpdate: lambda eks, r: eks.find_config_update(r.cluster, r.name, r.type),
}
"""Each read, as the EKS port's call."""


def perform(read: Read, eks: EksPort) -> object:
    """The answer EKS gives ``read``."""
    return _PERFORM[type(read)](eks, read)


def gather(base: Observation, eks: EksPort, *, presume: bool = True) -> Observation:
    """``base`` (the object and the gate's answer) completed with what EKS says (see
    :func:`~eks_oidc_operator.reconcile.reading.observe.observe` for ``presume``)."""
    reading = observe(base, presume=presume)
    try:
        read = next(reading)
        while True:
            read = reading.send(perform(read, eks))
    except StopIteration as done:
        observed: Observation = done.value
        return observed
    except EksError as error:
        reading.close()
        return base.but(error=error)
