"""The pure decisions: from what a pass observed, the plan of what to do. No I/O here.

- :mod:`.planner` runs the rule chains of :mod:`.rules` over an :mod:`.observation` in a
  :mod:`.context`, and returns a :mod:`.plan`;
- :mod:`.guards`: who may do what before EKS is asked (tenancy, rival claims, ownership tags,
  the issuer pre-flight);
- :mod:`.replacement`: make-before-break replacement (the differences that need one, the
  successor's name);
- the rest is vocabulary: conditions, reasons, error policy, timing, tokens, limits, inputs.

The I/O that feeds these decisions is :mod:`eks_oidc_operator.runtime`.
"""
