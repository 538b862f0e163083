"""`cnnviz summary`: layers, output shapes and parameter counts."""

from __future__ import annotations

from ..core.basics.text_safety import printable  # (light: no torch)
from .common import ARCH_HELP, CliError, add_input_scale, open_model

NAME = "summary"


def add_parser(sub) -> None:
    p = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    p.add_argument("arch", nargs="?", default=None, metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--arch", dest="arch_option", default=None, metavar="NAME|FILE.json|TEXT",
                   help="the same as the ARCH argument")
    p.add_argument("--weights", metavar="FILE", help="summarise the network in a model file")
    add_input_scale(p)


def run(args) -> int:
    from ..core.networks.arch_text import format_architecture, resolve_architecture
    from ..core.networks.models import ArchitectureError, format_summary

    if args.arch and args.arch_option and args.arch != args.arch_option:
        raise CliError("give the architecture once (as ARCH or --arch), not both")
    args.arch = args.arch or args.arch_option
    if args.weights:
        if args.arch:  # the file's own architecture would silently win
            raise CliError(f"give an architecture name ({args.arch}) or --weights FILE, not both")
        loaded = open_model(args)
        print(printable(format_summary(loaded.model.arch)))  # names from the file
        if "input_scale" in loaded.card:
            from ..core.networks.input_scale import WORDS

            print(f"Input: {WORDS.get(loaded.card['input_scale'], loaded.card['input_scale'])}, "
                  f"{loaded.card.get('input_scale_source', '')}")
        return 0
    try:
        arch = resolve_architecture(args.arch or "cnnviz")
    except ArchitectureError as exc:
        raise CliError(str(exc)) from None
    print(format_summary(arch))
    print(f"As text: {format_architecture(arch)}")
    return 0
