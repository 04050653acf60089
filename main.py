"""zhangfang (账房) command line.

Each package registers its own subcommands in ``<package>/cli.py`` with a
``register(subparsers)`` function; a subcommand's handler takes the parsed
arguments and returns an exit status. Bare ``python main.py`` starts the bot
when TELEGRAM_BOT_TOKEN is set and the console chat otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import sys

CLI_MODULES = (
    "erp.cli",
    "invoice_ocr.cli",
    "erp.import_cli",
    "bot.cli",
    "bot.knowledge.cli",
    "scheduler.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="账房 zhangfang — chat bookkeeping for small businesses",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that part of the product is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        from erp.config import get_settings

        default = "bot" if get_settings().telegram_bot_token else "chat"
        if default in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
            argv = [default]
        else:
            parser.print_help()
            return 0
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`... | head`): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
