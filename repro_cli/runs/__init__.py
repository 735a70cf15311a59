"""Run directories: one per (recipe, seed) run, never overwritten, written atomically."""
