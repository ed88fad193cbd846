"""Interactive explorers: controls -> widgets.core -> one figure and a few readouts."""
