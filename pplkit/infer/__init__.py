"""Inference: stochastic variational inference, guides, prediction and MCMC."""
