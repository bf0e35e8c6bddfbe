"""Pure: which EKS reads a pass makes, and what it makes of the answers.

Gathering is written as generators that *yield* each read (a value of :mod:`.reads`) and are
sent its answer: the choice of what to read next, and of which config the pass works on, is
pure code here, and the loop that performs the reads
(:mod:`eks_oidc_operator.runtime.gather`) branches on nothing. A test drives these generators
with answers of its own, no EKS and no fake client needed.

- :mod:`.reads`: the reads, and a typed helper per read;
- :mod:`.looks`: the reads every path shares (a config and its unknown update, the cluster
  before an association);
- :mod:`.observe`: the sequence of one pass (an observing object's, a new object's, the full
  one); a make-before-break replacement's part of it is
  :mod:`eks_oidc_operator.reconcile.replacement.reads`.
"""
