"""Keeping every client in sync: the trash, the change feed, live events, and the sweep that purges them."""
