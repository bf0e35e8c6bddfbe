"""``python -m eks_oidc_operator`` (console script ``eks-oidc-operator``): the operator's CLI.

Subcommands:

``run``
    Run the operator against the cluster of ``KUBECONFIG`` (or the in-cluster config), with
    boto3's standard credential chain, region variables and ``AWS_ENDPOINT_URL_EKS``. Every
    other knob is an ``EKS_OIDC_*`` variable (see :mod:`eks_oidc_operator.settings`).
``crd``
    Print the CustomResourceDefinition generated from the models (``make crds`` writes it to
    ``crds/``); with ``--apply``, server-side apply it over the installed one (the chart's
    CRD upgrade hook).
``version``
    Print which build this is.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import sys
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import yaml

from eks_oidc_operator.models.crd import build_crd

if TYPE_CHECKING:
    from eks_oidc_operator.election.elector import LeaseElector
    from eks_oidc_operator.settings import OperatorSettings

LOST_LEASE_EXIT_CODE = 3
"""The exit status of a leader that lost its lease (so a log or a test can tell it apart)."""


def render_crd() -> str:
    """The CRD as YAML, exactly as committed under ``crds/``."""
    header = "# Generated from the pydantic models by `make crds`: do not edit by hand.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=100)


ROUTINE = re.compile(
    r"^(Handler '(object-gauges|controls)'|Timer 'poll'|Timer 'resync') succeeded\.$"
)
"""kopf's line after every watch event and every timer pass: routine, not news."""


class _QuietRoutine(logging.Filter):
    """Log lines in proportion to what happens, not to how often the operator looks.

    kopf logs a line at INFO after every run of every handler: every watch event (the gauges'
    handler), every poll and every resync of every object. Those are lowered to DEBUG. A
    ``TemporaryError`` is kopf's "failed temporarily" at ERROR; for us it is one scheduled
    retry (a missing cluster, a throttled call), decided by the plan, whose real cause is in
    the conditions and events: lowered to INFO, one line per retry decision. An ERROR in the
    log still means something broke.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno == logging.ERROR and "failed temporarily" in message:
            record.levelno, record.levelname = logging.INFO, "INFO"
        elif record.levelno == logging.INFO and ROUTINE.match(message):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= logging.getLogger().getEffectiveLevel()


class _QuietKnownFailures(logging.Filter):
    """Failures the operator reports itself, or that cannot be helped, in one line each.

    - An event that cannot be posted in a namespace being deleted: kopf retries the 403 (for
      API server upgrades) and logs an ERROR per attempt, nine per event; the namespace and
      its objects are going, so each attempt goes to DEBUG and the last to INFO.
    - botocore's failed refresh of assumed-role credentials: logged with its traceback at
      every attempt, then raised, and reported by the operator as the AssumeRole failure it is
      (status, event, its own log line). The traceback goes; the line stays, at DEBUG when the
      failure is raised (mandatory refresh), at WARNING when old credentials still serve.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "because it is being terminated" in message:
            final = "escalating" in message or "Failed to post an event" in message
            level = logging.INFO if final else logging.DEBUG
            record.levelno, record.levelname = level, logging.getLevelName(level)
            record.exc_info = record.exc_text = None
        elif message.startswith("Refreshing temporary credentials failed"):
            if "mandatory" in message:
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info = record.exc_text = None
        return record.levelno >= logging.getLogger().getEffectiveLevel()


QUIETED = ("kopf._core.engines.posting", "botocore.credentials")
"""The loggers whose known failures :class:`_QuietKnownFailures` shortens (kopf's event poster
hands its own logger to the API requests it makes)."""


CLIENT_LIBRARIES = ("kubernetes", "kubernetes_asyncio", "pykube")
"""Kubernetes client libraries kopf imports, when it can, only to recognise their objects."""


def _without_client_libraries() -> None:
    """Keep kopf from importing the Kubernetes client libraries it merely could use.

    kopf imports each one it finds installed to recognise its objects (about 20 MiB for the
    ``kubernetes`` client, a quarter of the idle operator). The operator hands kopf none of
    their objects, logs in with kopf's own parsers (``handlers/lifecycle.py``), and its leader
    election talks to the Lease API itself (``election/leases.py``).
    """
    for name in CLIENT_LIBRARIES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type] # None: "not importable"


def _run(args: argparse.Namespace) -> int:
    from eks_oidc_operator.settings import OperatorSettings

    settings = OperatorSettings()
    _without_client_libraries()
    # Imported here: `crd` must work without kopf's or boto3's start-up cost.
    import kopf
    import prometheus_client

    from eks_oidc_operator import kopf_private
    from eks_oidc_operator.handlers import Runtime, build_registry, post_with_kopf

    kopf_private.install()  # before kopf starts watching
    runtime = Runtime.from_settings(
        settings, tuple(args.namespace or ()), post_event=post_with_kopf
    )
    _configure_logs(args.log_format or settings.log_format, verbose=args.verbose)
    if settings.metrics_port:
        prometheus_client.start_http_server(settings.metrics_port)
    liveness = (
        f"http://0.0.0.0:{settings.liveness_port}/healthz" if settings.liveness_port else None
    )
    elector = _lead(settings) if settings.leader_election else None
    kopf.run(
        registry=build_registry(runtime),
        memo=kopf.Memo(runtime=runtime),
        clusterwide=args.all_namespaces,
        namespaces=args.namespace or [],
        # Replicas are kept apart by the Lease (only the leader gets here), not by kopf's
        # peering, which freezes every replica when two have the same priority.
        standalone=True,
        liveness_endpoint=liveness,
    )
    if elector is not None:
        elector.release()  # a clean stop: a standby takes over at its next try
    return 0


def _configure_logs(log_format: str, *, verbose: bool) -> None:
    """kopf's formatters put the object (namespace/name) on every line about one: as a
    "[namespace/name]" prefix in text, as an "object" field in JSON. Routine lines and known,
    retried failures are kept quiet."""
    import kopf

    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL,
        log_prefix=log_format != "json",
    )
    logging.getLogger("kopf.objects").addFilter(_QuietRoutine())
    for name in QUIETED:
        logging.getLogger(name).addFilter(_QuietKnownFailures())
    quiet_probes()


def quiet_probes() -> None:
    """The kubelet asks ``/healthz`` every few seconds; aiohttp (kopf's liveness server) logs
    an access line for each at INFO: not news, so only its warnings are kept."""
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _lead(settings: OperatorSettings) -> LeaseElector:
    """Wait, as a standby answering its liveness probe, until this replica holds the Lease;
    then keep renewing it, and end the process at once if it is lost."""
    from eks_oidc_operator.election.elector import LeaseElector, api
    from eks_oidc_operator.election.standby import standby_health
    from eks_oidc_operator.metrics import LEADER

    identity = f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    namespace = settings.leader_election_namespace or os.environ.get("POD_NAMESPACE") or "default"
    elector = LeaseElector(
        api(),
        namespace,
        settings.leader_election_name,
        identity,
        settings.lease_timings(),
        on_change=lambda leading: LEADER.set(1 if leading else 0),
    )
    with standby_health(settings.liveness_port):
        elector.acquire()
    # Ending the process is the only way to be sure nothing of it acts any more: kopf's
    # handlers, their worker threads and their EKS calls all stop with it. A crash is safe
    # (tokens, status, the derived names), and the kubelet starts it again as a standby.
    elector.keep(on_lost=lambda: os._exit(LOST_LEASE_EXIT_CODE))
    return elector


def version_text() -> str:
    """``eks-oidc-operator version``: the version, the source revision and what it runs on (the
    same facts as the ``eks_oidc_build_info`` metric and the image's OCI labels)."""
    from importlib.metadata import PackageNotFoundError, version

    from eks_oidc_operator import __version__, revision

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "absent"

    return (
        f"eks-oidc-operator {__version__} (revision {revision()}; Python "
        f"{sys.version.split()[0]}, kopf {of('kopf')}, boto3 {of('boto3')})\n"
    )


def _apply_crd() -> int:
    from eks_oidc_operator import crd_upgrade, kubeapi

    try:
        sys.stdout.write(crd_upgrade.apply(kubeapi.connect(), build_crd()))
    except (crd_upgrade.CrdUpgradeError, kubeapi.ApiError) as error:
        sys.stderr.write(f"eks-oidc-operator crd --apply: {error}\n")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    parser = argparse.ArgumentParser(prog="eks-oidc-operator", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator")
    scope = run.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "-n", "--namespace", action="append", help="watch this namespace (repeatable)"
    )
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.add_argument(
        "--log-format",
        choices=("plain", "json"),
        default=None,
        help="plain text with a [namespace/name] prefix, or one JSON object per line "
        "(default: EKS_OIDC_LOG_FORMAT, else plain)",
    )
    crd = commands.add_parser("crd", help="print the generated CustomResourceDefinition")
    crd.add_argument(
        "--apply",
        action="store_true",
        help="server-side apply it over the installed CRD instead (the chart's upgrade hook)",
    )
    commands.add_parser("version", help="print which build this is")
    args = parser.parse_args(argv)
    if args.command == "crd":
        if args.apply:
            return _apply_crd()
        sys.stdout.write(render_crd())
        return 0
    if args.command == "version":
        sys.stdout.write(version_text())
        return 0
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
