"""A local Amazon EKS control plane for identity-provider configs, spoken to over HTTP.

Layers (each module has one job; the lower ones know nothing about HTTP or files):

* ``__main__`` - command line, server start/stop; ``app`` - aiohttp routes (EKS + ``/_sim``);
* ``service`` - one EKS call end to end, control actions; ``persistence`` - the state file;
* ``protocol`` - REST-JSON parsing/validation/serialisation from botocore's service model;
* ``faults`` - HTTP-level fault decisions; ``stats`` - call counters and journal;
* ``state`` - the resources, the 13 operations and the lazy lifecycle; ``tagging``,
  ``rules``, ``pagination`` - its pure helpers; ``entities`` - the resources' data;
* ``clock``, ``config``, ``errors`` - simulated time, settings, the EKS error type.

It must never import ``eks_oidc_operator``: it stands in for AWS, not for our code.
"""
