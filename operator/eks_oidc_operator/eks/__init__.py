"""The EKS layer: the only code of the operator that imports boto3/botocore.

:class:`EksClientFactory` builds (and caches) one :class:`EksClient` per region and role;
:class:`EksClient` makes the typed, blocking EKS calls and translates every botocore failure
into :class:`EksError`; the ``Observed*`` models are what the calls return.
"""

from eks_oidc_operator.eks.client import EksClient
from eks_oidc_operator.eks.clients import EksClientFactory
from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.eks.types import (
    ObservedCluster,
    ObservedConfig,
    ObservedUpdate,
    ObservedUpdateError,
)

__all__ = [
    "EksClient",
    "EksClientFactory",
    "EksError",
    "ObservedCluster",
    "ObservedConfig",
    "ObservedUpdate",
    "ObservedUpdateError",
]
