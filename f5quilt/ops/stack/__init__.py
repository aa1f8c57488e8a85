"""Push, pop and the stack's state: the ops every other op builds on (repair, drift, guards, rerere, stash, undo, opening a workspace, the queries).

Layers (import-linter): series -> authoring -> stack; nothing imports upward."""
