"""The EKS layer: the only code of the operator that imports boto3/botocore.

- :mod:`.calls`: :class:`~.calls.EksClient`, the typed port of one boto3 client: blocking EKS
  calls, every botocore failure translated into :class:`~.errors.EksError`;
- :mod:`.factory`: :class:`~.factory.EksClientFactory`, one client per (region, role, external
  id, session name), cached, assuming roles through STS;
- :mod:`.mapping`: pure translation between our models and EKS's request/response shapes;
- :mod:`.errors` and :mod:`.types`: the values the reconcile layer reads (``EksError``,
  ``ObservedConfig``, ``ObservedCluster``); an update is
  :class:`eks_oidc_operator.models.EksUpdate`.

This package imports none of its modules itself, so reading its values (as the pure decision
code does) never loads boto3.
"""
