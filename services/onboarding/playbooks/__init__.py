"""Client-type playbooks: an MSP's standard offers as named presets of the form's answers.

``source`` reads a playbook file (YAML, with line numbers) and checks its shape; ``resolve`` checks
its labels against the tenant through ``services.onboarding.answers``; ``catalog`` keeps the set
(``PLAYBOOKS_DIR``) and offers the valid ones; ``prefill`` fills a draft from one (and decides what
a later change of playbook may overwrite); ``provenance`` says which answers came from it.

Import the submodules themselves: this package imports nothing, so ``request`` can use
``provenance`` without pulling in the service.
"""
