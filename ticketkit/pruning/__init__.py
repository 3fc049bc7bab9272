"""Pruning as scorer -> allocator -> mask, plus the methods and sanity checks built from those parts."""
