"""The reference and the matcher a verify command compares against (shared by --probe and --source)."""

from __future__ import annotations

import argparse

from terminal.cli.enroll import skip_codes
from terminal.config.schema import Config
from terminal.matching.decision import Matcher
from terminal.matching.enroll import load_reference
from terminal.matching.factory import build_matcher
from terminal.matching.probe import FaceFinder, make_finder
from terminal.matching.template import Template


def prepare(args: argparse.Namespace, cfg: Config) -> tuple[Matcher, FaceFinder, Template]:
    """The calibrated matcher, the face finder and the reference template named by the arguments."""
    matcher = build_matcher(cfg, threshold=getattr(args, "threshold", None))
    finder = make_finder(cfg, use_gate=getattr(args, "gate", True), skip=skip_codes(args))
    try:
        refs = list(args.reference)
        template = load_reference(refs if len(refs) > 1 else refs[0], matcher, finder)
    except BaseException:
        finder.close()
        raise
    return matcher, finder, template
