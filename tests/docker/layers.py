"""What an image's layers hold and weigh: one pass over ``docker save`` (for the image test)."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import tarfile
import zlib
from dataclasses import dataclass, field

from .dockerd import Dockerd


@dataclass
class Layers:
    """One pass over ``docker save``: what the image's layers hold and weigh."""

    sizes: list[int] = field(default_factory=list)  # uncompressed tar bytes, in order
    gzipped: list[int] = field(default_factory=list)  # as a registry would store them (gzip -6)
    found: set[str] = field(default_factory=set)  # needles seen in any file
    names: set[str] = field(default_factory=set)  # every path in every layer


def scan_layers(docker: Dockerd, image: str, needles: dict[str, bytes]) -> Layers:
    saved = subprocess.Popen([docker.client, "save", image], env=docker.env, stdout=subprocess.PIPE)
    assert saved.stdout is not None
    layers, by_name = Layers(), {}
    with tarfile.open(fileobj=saved.stdout, mode="r|") as outer:
        for member in outer:
            if member.name == "manifest.json":
                manifest = json.load(outer.extractfile(member))  # type: ignore[arg-type]
                continue
            if not member.name.endswith("layer.tar") or not member.isfile():
                continue
            raw = outer.extractfile(member)
            assert raw is not None
            data = raw.read()
            packer = zlib.compressobj(6, zlib.DEFLATED, 31)
            by_name[member.name] = (len(data), len(packer.compress(data)) + len(packer.flush()))
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as inner:
                for item in inner:
                    layers.names.add(item.name)
                    if item.isfile():
                        body = inner.extractfile(item)
                        content = body.read() if body is not None else b""
                        layers.found.update(label for label, needle in needles.items() if needle in content)
    saved.wait(timeout=60)
    for name in manifest[0]["Layers"]:
        size, gzipped = by_name[name]
        layers.sizes.append(size)
        layers.gzipped.append(gzipped)
    return layers


def certificates(pem: str) -> dict[str, bytes]:
    """Each certificate of a bundle by its body, with one line of its base64 as what to look for."""
    found = {}
    for body in re.findall(r"-----BEGIN CERTIFICATE-----\n(.+?)\n-----END CERTIFICATE-----", pem, re.S):
        lines = body.split("\n")
        base64.b64decode("".join(lines))  # a real certificate, not a comment
        found[body] = lines[len(lines) // 2].encode()
    return found
