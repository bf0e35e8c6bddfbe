"""The EKS layer: the only code of the operator that imports boto3/botocore.

- :mod:`.calls`: :class:`~.calls.EksClient`, the typed port of one boto3 client: blocking EKS
  calls, every botocore failure translated into
  :class:`eks_oidc_operator.models.eks.EksError`;
- :mod:`.factory`: :class:`~.factory.EksClientFactory`, one client per (region, role, external
  id, session name), cached, assuming roles through STS;
- :mod:`.mapping`: pure translation between our models and EKS's request/response shapes;
- what EKS says (``ObservedConfig``, ``ObservedCluster``, ``EksError``) is the models' EKS
  vocabulary, :mod:`eks_oidc_operator.models.eks`, so the decisions read it without this
  package.

This package imports none of its modules itself, so importing one never loads the others.
"""
