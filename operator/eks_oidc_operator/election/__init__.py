"""Leader election among the operator's replicas (a coordination.k8s.io Lease)."""
