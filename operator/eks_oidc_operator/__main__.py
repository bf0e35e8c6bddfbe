"""``python -m eks_oidc_operator`` (console script ``eks-oidc-operator``): the operator's CLI.

Subcommands:

``crd``
    Print the CustomResourceDefinition generated from the models (``make crds`` writes it to
    ``crds/``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from eks_oidc_operator.models.crd import build_crd


def render_crd() -> str:
    """The CRD as YAML, exactly as committed under ``crds/``."""
    header = "# Generated from the pydantic models by `make crds`: do not edit by hand.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=100)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    parser = argparse.ArgumentParser(prog="eks-oidc-operator", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("crd", help="print the generated CustomResourceDefinition")
    args = parser.parse_args(argv)
    if args.command == "crd":
        sys.stdout.write(render_crd())
    return 0


if __name__ == "__main__":
    sys.exit(main())
