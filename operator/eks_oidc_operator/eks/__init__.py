"""The EKS layer: the only code of the operator that imports boto3/botocore.

:class:`EksClientFactory` builds (and caches) one :class:`EksClient` per region and role;
:class:`EksClient` makes the typed, blocking EKS calls and translates every botocore failure
into :class:`EksError`; the ``Observed*`` models and :class:`~eks_oidc_operator.models.EksUpdate`
are what the calls return.

Two modules, two jobs: :mod:`.calls` is the typed port (one boto3 client's EKS operations),
:mod:`.factory` makes those clients per (region, role), assuming roles through STS.
"""

from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.eks.factory import EksClientFactory
from eks_oidc_operator.eks.types import ObservedCluster, ObservedConfig

__all__ = [
    "EksClient",
    "EksClientFactory",
    "EksError",
    "ObservedCluster",
    "ObservedConfig",
]
