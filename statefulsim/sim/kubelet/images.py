"""Image pulls that fail: the scenario's ``images:`` rules and the registry's error texts.

A rule names an image reference (matched as the timing overrides match ``image``: ``nginx``
matches every tag of nginx, ``nginx:1.99`` that tag only) and how its pulls fail.  The
kubelet's pull loop (``Kubelet.pull_image``) turns a failure into ``ErrImagePull`` and then
``ImagePullBackOff`` (reference volumes-attach-detach.md §7.3-§7.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from statefulsim.sim.timing import image_matches

NOT_FOUND = "notFound"
UNAUTHORIZED = "unauthorized"
TIMEOUT = "timeout"
PULL_FAILURES = (NOT_FOUND, UNAUTHORIZED, TIMEOUT)
#: How long a pull from a registry that does not answer takes to fail (the dialer's timeout).
TIMEOUT_SECONDS = 30.0
#: kubelet image back-off (``imageBackOffPeriod``, ``MaxImageBackOff``).
IMAGE_BACKOFF_INITIAL = 10.0
IMAGE_BACKOFF_MAX = 300.0


def _reference(image: str) -> str:
    """The fully qualified reference containerd reports (``nginx:1.99`` →
    ``docker.io/library/nginx:1.99``)."""
    name = image
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        name += ":latest"
    return name


def registry_error(pull: str, image: str) -> str:
    """containerd's error text for a pull of ``image`` that fails with ``pull``."""
    ref = _reference(image)
    if pull == NOT_FOUND:
        return (f"rpc error: code = NotFound desc = failed to pull and unpack image \"{ref}\": "
                f"failed to resolve reference \"{ref}\": {ref}: not found")
    if pull == UNAUTHORIZED:
        # Since 1.28 the kubelet strips the gRPC wrapper of an Unknown status.
        return (f"failed to pull and unpack image \"{ref}\": failed to resolve reference \"{ref}\": "
                "pull access denied, repository does not exist or may require authorization: "
                "server message: insufficient_scope: authorization failed")
    registry, _, rest = ref.partition("/")
    repo, _, tag = rest.rpartition(":")
    host = "registry-1.docker.io" if registry == "docker.io" else registry
    return (f"rpc error: code = DeadlineExceeded desc = failed to pull and unpack image \"{ref}\": "
            f"failed to resolve reference \"{ref}\": failed to do request: "
            f"Head \"https://{host}/v2/{repo}/manifests/{tag}\": dial tcp {host}:443: i/o timeout")


@dataclass(frozen=True)
class ImagePullRule:
    """``images:`` entry: pulls of ``image`` fail with ``pull``; ``message`` replaces the
    registry's error text when given."""

    image: str
    pull: str
    message: str = ""

    def matches(self, image: str) -> bool:
        return image_matches(self.image, image)

    def error(self, image: str) -> str:
        return self.message or registry_error(self.pull, image)


def failing_rule(rules: tuple[ImagePullRule, ...], image: str) -> ImagePullRule | None:
    """The last rule that matches ``image`` (as with timing overrides), or None."""
    found = None
    for r in rules:
        if r.matches(image):
            found = r
    return found
