"""Every container that loads a course bundle sees the folder the API stores it in."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


class _ComposeLoader(yaml.SafeLoader):
    """Compose's merge tags (``!reset``, ``!override``) read as plain values."""


_ComposeLoader.add_multi_constructor("!", lambda loader, tag, node: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node) if isinstance(node, yaml.MappingNode)
    else loader.construct_scalar(node)))


def _mounts(service: dict) -> dict[str, tuple[str, bool]]:
    """Container path → (volume, read-only) for the service's named volumes."""
    out = {}
    for entry in service.get("volumes", []):
        source, target, *mode = entry.split(":")
        out[target] = (source, mode == ["ro"])
    return out


def test_workers_mount_the_apis_bundle_folder_read_only() -> None:
    """Bundles published over the API live in ``<state dir>/bundles``; a worker without that
    volume reports each one "missing on this worker" and can neither grade nor check it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ci = yaml.load((ROOT / "docker/compose.ci.yml").read_text(), Loader=_ComposeLoader)
    services = compose["services"]
    env = services["api"]["environment"]
    bundles = env.get("DLGRADE_BUNDLES_PATH") or f"{env['DLGRADE_STATE_DIR']}/bundles"

    def holder(mounts: dict[str, tuple[str, bool]]) -> tuple[str, bool]:
        best = max((t for t in mounts if bundles == t or bundles.startswith(t.rstrip("/") + "/")),
                   key=len, default=None)
        assert best is not None, f"nothing mounted over {bundles}"
        return mounts[best]

    api_volume, api_ro = holder(_mounts(services["api"]))
    assert not api_ro
    for name in ("worker", "worker-slow"):
        for svc in (services[name], ci["services"].get(name) or {}):
            if "volumes" in svc or svc is services[name]:
                assert holder(_mounts(svc)) == (api_volume, True), name


def test_no_worker_mounts_the_apis_state_where_its_signing_key_lives() -> None:
    """Workers run course bundles' code as root; the JWT key in the API's state directory
    would let that code forge an admin's token."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    state = services["api"]["environment"]["DLGRADE_STATE_DIR"]
    state_volume = next(source for source, target in (
        entry.split(":")[:2] for entry in services["api"]["volumes"]) if target == state)
    for name in ("worker", "worker-slow"):
        assert state_volume not in [e.split(":")[0] for e in services[name]["volumes"]], name
