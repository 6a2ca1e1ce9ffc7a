"""One adapter module per ESP; they never import each other."""
