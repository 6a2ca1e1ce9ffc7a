"""The command-line door: one module per command group, all registered in main."""
