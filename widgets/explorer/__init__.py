"""The model explorer: fits a model under the learner's edits and shows every view of it.

``fitting`` runs SVI or NUTS for one request; ``explorer_controls`` are the per-site
controls; ``explorer`` puts the views together; ``dashboard`` is its Voila page. The top
layer: it uses :mod:`widgets.plots`, :mod:`widgets.views` and :mod:`widgets.training`.
"""
