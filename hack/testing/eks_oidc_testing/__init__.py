"""The local stack of eks-oidc-operator's checkout, as one importable package.

- ``controlplane``: a real etcd + kube-apiserver on loopback (``python -m
  eks_oidc_testing.controlplane up|down|status|build``, what ``make cluster-up`` runs);
- ``simulator``: the EKS simulator as a subprocess, and a handle on its EKS and control APIs;
- ``operator_process``: the operator as a real process, with its own kubeconfig and settings;
- ``kube``: a cluster as kubectl reaches it;
- ``stack``: all of them in one ``with`` (``local_stack``), for benchmarks and the demo;
- ``paths``: the checkout this package belongs to (CRD, chart, build script).

Development only: installed editable from ``hack/testing`` by the dev dependency group, never
part of the operator's wheel or image. It starts ``eks_simulator`` and ``eks_oidc_operator`` as
``python -m`` processes of the same interpreter and imports neither.
"""
