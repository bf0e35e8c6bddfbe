__version__ = "0.2.0"


def revision() -> str:
    """The source revision this build was made from: the image sets it
    (``EKS_OIDC_OPERATOR_REVISION``, the commit); a checkout runs as ``unknown``."""
    import os

    return os.environ.get("EKS_OIDC_OPERATOR_REVISION") or "unknown"
