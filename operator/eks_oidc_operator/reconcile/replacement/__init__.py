"""Pure: make-before-break replacement: which settings differ from EKS's (:mod:`.delta`), and
the successor config's name and the choices around it (:mod:`.successor`)."""
