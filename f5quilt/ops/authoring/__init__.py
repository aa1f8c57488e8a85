"""Writing patches: new, add, refresh, fold, rename, delete, import, header (core), quilt's diff and refresh (quiltdiff), quilt's other commands, git headers, capture and absorb.

Layers (import-linter): series -> authoring -> stack; nothing imports upward."""
