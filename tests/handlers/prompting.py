"""Drive the terminal front-end's prompts with keystrokes, through prompt_toolkit's pipe input."""

from __future__ import annotations

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.container import Container
from handlers.console import ConsolePresenter, Prompter, _user
from services.i18n import Translator

DOWN, ENTER = "\x1b[B", "\r"


async def run_prompts(container: Container, keys: list[str], locale: str = "en") -> tuple[int, str]:
    """The exit code of ``Prompter.run`` fed ``keys``, and everything it printed."""
    lines: list[str] = []
    presenter = ConsolePresenter(_user())
    container.presenters.register("console", presenter)
    prompter = Prompter(service=container.onboarding, presenter=presenter,
                        t=Translator(locale), echo=lines.append)  # fmt: skip
    with create_pipe_input() as pipe:
        pipe.send_text("".join(keys))
        with create_app_session(input=pipe, output=DummyOutput()):
            code = await prompter.run()
    return code, "\n".join(lines)
