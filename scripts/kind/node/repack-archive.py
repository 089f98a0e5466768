#!/usr/bin/env python3
"""Rewrite a `docker save` archive of several images so that `kind build node-image` counts them all as built.

kind v0.33 reads the tags of an archive from whichever of `manifest.json` and `repositories` comes first, and from
`manifest.json` only the first image's tags; an image it does not count as built it tries to pull. So this writes
`repositories` first, with short names spelled out as docker.io/... (kind compares full names). `ctr images import`
still reads manifest.json as usual.

    repack-archive.py IN.tar OUT.tar
"""

from __future__ import annotations

import io
import json
import sys
import tarfile


def qualified(repository: str) -> str:
    """docker.io/<repository> for a short name; names with a registry host are kept."""
    first = repository.split("/", 1)[0]
    has_registry = "." in first or ":" in first or first == "localhost"
    return repository if has_registry and "/" in repository else f"docker.io/{repository}"


def main(source: str, target: str) -> None:
    with tarfile.open(source) as archive, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        members = sorted(archive.getmembers(), key=lambda member: member.name != "repositories")
        for member in members:
            data = archive.extractfile(member) if member.isfile() else None
            if member.name == "repositories" and data is not None:
                index = json.load(data)
                body = json.dumps({qualified(name): tags for name, tags in index.items()}).encode()
                member.size = len(body)
                data = io.BytesIO(body)
            out.addfile(member, data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: repack-archive.py IN.tar OUT.tar")
    main(sys.argv[1], sys.argv[2])
