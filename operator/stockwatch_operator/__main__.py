"""`stockwatch-operator [kopf run options]`: kopf run on this package with production defaults.

Defaults (each overridable by passing the option): --all-namespaces, --peering=stockwatch-operator,
--liveness=http://0.0.0.0:8081/healthz. Pass --standalone or -n/--namespace to change the mode.
"""

from __future__ import annotations

import sys

from kopf import cli


def arguments(argv: list[str]) -> list[str]:
    args = ["run", "-m", "stockwatch_operator.main", *argv]
    if not any(a in argv for a in ("-A", "--all-namespaces")) and not any(
        a.startswith(("-n", "--namespace")) for a in argv
    ):
        args.append("--all-namespaces")
    if "--standalone" not in argv and not any(a.startswith("--peering") for a in argv):
        args.append("--peering=stockwatch-operator")
    if not any(a.startswith("--liveness") for a in argv):
        args.append("--liveness=http://0.0.0.0:8081/healthz")
    return args


def main() -> None:
    cli.main(args=arguments(sys.argv[1:]), prog_name="stockwatch-operator")


if __name__ == "__main__":
    main()
