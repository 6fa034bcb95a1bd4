"""Training entry points built on the library (these may import more than numpy)."""
