"""The I/O around a pass: what reads Kubernetes, EKS and the issuer for the pure decisions.

- :mod:`.services`: what every pass shares, built once at start-up;
- :mod:`.inputs`: the inputs a pass collects before it runs (tenancy, rivals, issuer checks);
- :mod:`.reconciler`: one pass, in a worker thread: gather, plan, carry the plan's calls out;
- :mod:`.gather`: the EKS reads a pass's observation is made of;
- :mod:`.port`, :mod:`.cluster_facts`: the EKS port a pass talks to, and the shared
  DescribeCluster answers;
- :mod:`.object_state`: what is kept of one object between its passes;
- :mod:`.crd_state`, :mod:`.tenancy_source`: the CRD's deletion and the tenancy policy file;
- :mod:`.pacing`: when passes run (the cluster gate, the namespace budgets, the timers).

The decisions themselves are in :mod:`eks_oidc_operator.reconcile`, which does no I/O.
"""
