"""Pure: what must hold before a pass asks EKS anything: the namespace may use the cluster
(:mod:`.tenancy`), no rival object claims the config (:mod:`.claims`), the config's tags say we
own it (:mod:`.ownership`), and the issuer passed its pre-flight (:mod:`.issuer`)."""
