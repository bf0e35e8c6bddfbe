"""A botocore data loader whose endpoint data lists only the services the operator calls.

Why: the first client of a botocore session parses botocore's whole ``endpoints.json`` (every
AWS service in every partition) into the session's endpoint resolver, and keeps it for the
process's life: about 6.7 MiB of Python objects (measured with botocore 1.44 and tracemalloc,
5 % of the operator's memory budget), of which the operator reads two services, ``eks`` and
``sts``. :class:`LeanLoader` hands the session the same file with every other service left
out, so the resolver is built from a few KiB.

Nothing else changes: partitions, their regions, defaults and variants (FIPS, dual-stack) are
kept whole, and the path reported is the real file's, so botocore treats the data as its own
built-in data exactly as before (that decides whether it resolves endpoints with the
services' rule sets). ``tests/unit/eks/test_endpoints.py`` checks that clients built through
this loader resolve the same endpoints as stock botocore's, in every partition.

The loader is given to sessions with botocore's public ``register_component("data_loader")``.
It relies on one documented method of botocore's ``Loader``, ``load_data_with_path``, being
the way a session reads ``endpoints``; if a botocore release reads it some other way, the
session simply gets the full data again (more memory, same behaviour).
"""

from __future__ import annotations

import threading
from typing import Any, Final

import boto3
import botocore.session
from botocore.loaders import Loader

SERVICES: Final = frozenset({"eks", "sts"})
"""The services whose endpoints the operator resolves: EKS, and STS for assumed roles."""

ENDPOINTS: Final = "endpoints"
"""botocore's name of its endpoint data file."""


def pruned(data: dict[str, Any], services: frozenset[str] = SERVICES) -> dict[str, Any]:
    """``data`` (botocore's endpoint data) with only ``services`` in each partition.

    Pure: ``data`` is not changed; what is kept is shared with it, not copied.
    """
    partitions = [
        {
            **partition,
            "services": {
                name: service
                for name, service in partition.get("services", {}).items()
                if name in services
            },
        }
        for partition in data["partitions"]
    ]
    return {**data, "partitions": partitions}


class LeanLoader(Loader):
    """botocore's ``Loader``, with :func:`pruned` endpoint data.

    Service models and every other file load (and are cached) as botocore's own loader does;
    only ``endpoints`` differs. It is read by a throwaway loader, so the full data is never
    cached, and pruned once for every session this loader serves.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._endpoints: tuple[dict[str, Any], str] | None = None
        self._endpoints_lock = threading.Lock()

    def load_data_with_path(self, name: str) -> tuple[Any, str]:
        """As botocore's, but ``endpoints`` lists only :data:`SERVICES`."""
        if name != ENDPOINTS:
            found: tuple[Any, str] = super().load_data_with_path(name)
            return found
        with self._endpoints_lock:
            if self._endpoints is None:
                reader = Loader(
                    extra_search_paths=list(self.search_paths),
                    include_default_search_paths=False,
                )
                data, path = reader.load_data_with_path(name)
                self._endpoints = (pruned(data), path)
            return self._endpoints


def lean_loader() -> LeanLoader:
    """A :class:`LeanLoader` searching where botocore's default loader would (so honouring
    ``AWS_DATA_PATH``)."""
    stock: Loader = botocore.session.Session().get_component("data_loader")
    return LeanLoader(
        extra_search_paths=list(stock.search_paths), include_default_search_paths=False
    )


def lean_session(loader: Loader | None = None) -> boto3.session.Session:
    """A boto3 session with the standard credential chain that reads data through ``loader``
    (a new :func:`lean_loader` by default)."""
    core = botocore.session.Session()
    # Before boto3's Session: it takes the session's loader once, in its constructor.
    core.register_component("data_loader", loader or lean_loader())
    return boto3.session.Session(botocore_session=core)
