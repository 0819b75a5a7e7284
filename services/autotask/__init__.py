"""Autotask PSA REST API: client, models, reference data, sandbox."""
