"""The one exception the ``eks`` layer raises: EKS's (or the SDK's) own code and words.

Every botocore/boto3 failure is translated here, once, so no other layer knows botocore. What an
error *means* for the resource (condition reason, retry policy, event type) is decided in
:mod:`eks_oidc_operator.reconcile.error_policy`, from ``code`` alone.
"""

from __future__ import annotations


class EksError(Exception):
    """A failed EKS call, after botocore's own retries.

    Parameters
    ----------
    code
        EKS's error code (``ResourceInUseException``, ``ThrottlingException``, ...) or, for
        failures that never reached EKS, the botocore exception name (``NoCredentialsError``,
        ``EndpointConnectionError``, ``ReadTimeoutError``, ...).
    message
        EKS's own message, or botocore's.
    operation
        The EKS operation, e.g. ``AssociateIdentityProviderConfig``.
    http_status
        The HTTP status, when there was a response.
    """

    def __init__(
        self, code: str, message: str, *, operation: str, http_status: int | None = None
    ) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
        self.http_status = http_status
