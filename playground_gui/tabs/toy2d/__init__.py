"""The 2D toy tab: ``view`` (widgets and layout), ``session`` (the model, the runs and their
jobs, no widgets), ``binding`` (request fields ↔ controls), ``tab`` (the two wired together),
``plane`` and ``plots`` (plot items and what they draw)."""
