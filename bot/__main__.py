"""``python -m bot`` is ``onboard-bot``."""

from bot.cli import main

main()
