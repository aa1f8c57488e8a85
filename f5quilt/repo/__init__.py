"""Repository state: settings, .pc/, the pinned upstream, the transaction layer and the workspace."""
