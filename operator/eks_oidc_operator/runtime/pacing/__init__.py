"""When passes run and how many EKS calls they may make: the one-update-per-cluster gate
(:mod:`.gate`), each namespace's call budget and the mass-deletion guard (:mod:`.budget`), and
the one scheduler of every object's polls and drift checks (:mod:`.timers`)."""
