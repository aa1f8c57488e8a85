"""The patch model: patch files (parsed over unidiff) and the series file. Imports nothing of f5quilt but errors."""
