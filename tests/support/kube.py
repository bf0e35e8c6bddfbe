"""The kubectl helpers and the checkout's root under their old names, for modules not yet moved.

They live in ``eks_oidc_testing.kube`` and ``eks_oidc_testing.paths`` (``hack/testing``);
import them from there. This re-export goes away once nothing imports ``tests.support``.
"""

from __future__ import annotations

from eks_oidc_testing.kube import Cluster, operator_kubeconfig_via_token_request, unique_name
from eks_oidc_testing.paths import REPO

__all__ = ["REPO", "Cluster", "operator_kubeconfig_via_token_request", "unique_name"]
