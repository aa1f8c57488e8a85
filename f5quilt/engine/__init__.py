"""The engine: pure functions over bytes: locate a hunk, apply a patch, virtual trees, merge, diff."""
