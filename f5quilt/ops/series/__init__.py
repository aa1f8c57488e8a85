"""Whole-series work over the pin: check, status, rebase, the upgrade autopilot, init and fetch --replace (vendor), git export/import, exec, install.

Layers (import-linter): series -> authoring -> stack; nothing imports upward."""
