"""Bayesian neural networks the Pyro way: torch modules whose attributes are sites.

``PyroModule`` is a ``torch.nn.Module`` whose attributes can be declared as
``PyroParam`` (a constrained param in the param store) or ``PyroSample`` (a random
variable drawn with ``sample``); ``PyroModule[nn.Linear]`` makes any torch module
class into one. Sites are named by their path in the module tree, as Pyro's:
``linear.weight``.
"""

from .module import PyroModule, PyroParam, PyroSample, module, pyro_method

__all__ = ["PyroModule", "PyroParam", "PyroSample", "module", "pyro_method"]
