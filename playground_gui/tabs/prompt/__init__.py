"""The Prompt tab (Stable Diffusion): ``view`` (widgets, built by ``settings_panel``,
``result_panel`` and ``pages``), ``session`` (state and jobs, no widgets), ``binding`` (request
field ↔ control), ``steps`` (how steps and devices are put into words), and the widgets only
this tab uses (model picker, image/latent/token views, mask painter)."""
