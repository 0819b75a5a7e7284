"""The process: settings, wiring, HTTP server, scheduler, CLI."""

__version__ = "0.1.0"
