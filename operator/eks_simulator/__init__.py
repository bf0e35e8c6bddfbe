"""A local Amazon EKS control plane for identity-provider configs (and STS's AssumeRole), over HTTP.

Layers (each module has one job; the lower ones know nothing about HTTP or files):

* ``__main__`` - command line, server start/stop; ``app`` - aiohttp routes (STS, EKS, ``/_sim``);
* ``service`` - one EKS or STS call end to end, control actions; ``persistence`` - the state file;
* ``protocol`` - REST-JSON parsing/validation/serialisation from botocore's service model;
  ``sts_protocol`` - the same for STS's query protocol and XML;
* ``faults`` - HTTP-level fault decisions; ``stats`` - call counters and journal;
  ``issuers`` - fetching an associated issuer's discovery document (``--fetch-issuers``);
* ``state`` - the resources, the 13 operations and the lazy lifecycle; ``tagging``,
  ``rules``, ``pagination`` - its pure helpers; ``entities`` - the resources' data;
* ``sts`` - AssumeRole, the credentials it issued, and its refusal rules;
* ``clock``, ``config``, ``errors`` - simulated time, settings, the EKS and STS error types.

It must never import ``eks_oidc_operator``: it stands in for AWS, not for our code.
"""
