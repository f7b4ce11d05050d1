"""Where the built-in content pack lives, from a source checkout or a frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def builtin_pack_root() -> Path:
    """The folder holding the built-in ``lessons/``, ``scenarios/`` and ``assets/``.

    From a source checkout this is the repository root. In a PyInstaller bundle those
    folders are copied to the bundle root, which PyInstaller exposes as ``sys._MEIPASS``.
    """
    bundle_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and isinstance(bundle_root, str):
        return Path(bundle_root)
    return Path(__file__).resolve().parents[2]
