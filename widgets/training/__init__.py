"""Training shown live: the loss history, the convergence guard, the ELBO chart and the controller.

``history`` keeps the curve that is sent; ``convergence`` judges it; ``elbo_chart`` and
``trajectories`` draw it; ``controller`` runs SVI with Run, Stop and Reset. Built on
:mod:`widgets.plots` only.
"""
