"""Operations: what each command does, over the workspace, inside one transaction."""
