"""Pictures of a model: its graph, priors and posteriors, and the edits the explorer makes to it.

``draws`` samples a model's prior and posterior predictive; ``priors``, ``handlers`` and
``toggles`` change a model by wrapping it in pplkit's handlers; ``posterior_plots`` and
``model_view`` draw them; ``snapshot`` freezes one moment of a fit. Built on
:mod:`widgets.plots` only.
"""
