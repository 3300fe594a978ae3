"""Evaluate presentation-attack detection over a folder (ISO/IEC 30107-3 terms: APCER per kind, BPCER).

Layout (docs/liveness.md, "Evaluating"):

    DIR/live/<item>                 bona fide presentations
    DIR/attack/<kind>/<item>        attacks, one folder per attack kind
    DIR/ref/<identity>.(jpg|png)    the reference of each identity (or a folder of images)

An item is a clip (a recording from ``terminal record``, a folder of frames, or a folder holding ``frames/`` and
``camera.toml``) or a single image. Its identity is its name up to ``__`` (``alice__take2`` -> ``alice``).
A clip runs a whole verification session against the identity's reference: an attack counts as accepted when
the session decides ``match``; a live clip counts as rejected (BPCER) when liveness, PAD or the identity check
refuses it, and the other outcomes (gate timeout, no_match) are listed apart. An image is scored by the PAD
backend alone.
"""

from __future__ import annotations

import logging
import statistics
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal.camera.recording import list_images, read_image_rgb
from terminal.errors import TerminalError

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.matching.decision import Matcher
    from terminal.matching.probe import FaceFinder
    from terminal.matching.template import Template
    from terminal.pad.base import PadBackend

log = logging.getLogger(__name__)

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp")
REFUSED = ("LIVENESS_FAILED", "IDENTITY_MISMATCH")


class PadDatasetError(TerminalError):
    """The evaluation folder does not follow the documented layout."""

    exit_code = 65  # EX_DATAERR


@dataclass
class Item:
    """One presentation: live or an attack kind, its name, identity and path."""

    kind: str
    name: str
    path: Path

    @property
    def live(self) -> bool:
        """True for a bona fide presentation."""
        return self.kind == "live"

    @property
    def identity(self) -> str:
        """The reference this item is verified against."""
        return self.name.split("__")[0]

    @property
    def is_image(self) -> bool:
        """True for a single still (scored by PAD alone)."""
        return self.path.is_file() and self.path.suffix.lower() in IMAGE_EXT


@dataclass
class Outcome:
    """What happened to one item."""

    item: Item
    accepted: bool
    decision: str
    reason_code: str | None = None
    pad_score: float | None = None
    decision_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "kind": self.item.kind,
            "item": self.item.name,
            "accepted": self.accepted,
            "decision": self.decision,
            "reason_code": self.reason_code,
            "pad_score": self.pad_score,
            "decision_s": self.decision_s,
            **self.detail,
        }


def list_items(root: Path) -> list[Item]:
    """Every live and attack item under ``root``; PadDatasetError when the layout is wrong."""
    if not (root / "live").is_dir() and not (root / "attack").is_dir():
        raise PadDatasetError(f"{root}: expected live/ and/or attack/<kind>/ folders (docs/liveness.md)")
    items = [Item("live", p.stem if p.is_file() else p.name, p) for p in _entries(root / "live")]
    for kind_dir in _entries(root / "attack"):
        if not kind_dir.is_dir():
            raise PadDatasetError(f"{kind_dir}: attack/ must hold one folder per attack kind")
        items += [Item(kind_dir.name, p.stem if p.is_file() else p.name, p) for p in _entries(kind_dir)]
    if not items:
        raise PadDatasetError(f"{root}: no item found under live/ or attack/")
    return items


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def reference_paths(root: Path, identity: str) -> list[Path]:
    """The reference image(s) of ``identity`` under ``root/ref``; PadDatasetError when missing."""
    ref = root / "ref"
    folder = ref / identity
    if folder.is_dir():
        found = list_images(folder)
        if found:
            return found
    for ext in IMAGE_EXT:
        if (ref / f"{identity}{ext}").is_file():
            return [ref / f"{identity}{ext}"]
    raise PadDatasetError(f"no reference for '{identity}' under {ref} (ref/<identity>.jpg or ref/<identity>/)")


def clip_source(path: Path, cfg: Config) -> Any:
    """A replay source for a clip folder (``frames/`` + ``camera.toml`` as in ../shared/data/live, or frames)."""
    from terminal.camera import open_source

    camera = cfg.camera
    if (path / "frames").is_dir():
        fps = camera.fps
        if (path / "camera.toml").is_file():
            fps = float(tomllib.loads((path / "camera.toml").read_text()).get("camera", {}).get("fps", fps))
        camera = camera.model_copy(update={"fps": fps})
        path = path / "frames"
    return open_source(f"replay:{path}", camera)


class PadEvaluator:
    """Runs items: sessions for clips, PAD alone for images; keeps the references it enrolled."""

    def __init__(
        self,
        cfg: Config,
        root: Path,
        matcher: Matcher,
        finder: FaceFinder,
        backend: PadBackend,
        skip: tuple[str, ...] = (),
        live_cfg: Config | None = None,
    ) -> None:
        self.cfg, self.root, self.matcher, self.finder, self.backend = cfg, root, matcher, finder, backend
        self.skip = skip
        self.live_cfg = live_cfg or cfg  # recordings cannot answer a random prompt: live items may fix the plan
        self._refs: dict[str, Template] = {}

    def reference(self, identity: str) -> Template:
        """The enrolled template of ``identity`` (cached)."""
        from terminal.matching.enroll import enroll_images

        if identity not in self._refs:
            self._refs[identity] = enroll_images(reference_paths(self.root, identity), self.matcher, self.finder)[0]
        return self._refs[identity]

    def run(self, item: Item) -> Outcome:
        """Evaluate one item."""
        return self._image(item) if item.is_image else self._clip(item)

    def _image(self, item: Item) -> Outcome:
        from terminal.pad.calibration import resolve_pad_threshold
        from terminal.pad.crop import landmark_box

        found = self.finder.find(read_image_rgb(item.path))
        if found.face is None:
            return Outcome(item, False, "no_face", reason_code=",".join(found.reasons))
        score = self.backend.score(read_image_rgb(item.path), landmark_box(found.face))
        threshold = resolve_pad_threshold(self.cfg, self.backend.name)[0]
        return Outcome(item, score >= threshold, "live" if score >= threshold else "attack", pad_score=round(score, 4))

    def _clip(self, item: Item) -> Outcome:
        from terminal.analysis.gate import QualityGate
        from terminal.session import SessionRequest, VerificationSession, run_session

        cfg = self.live_cfg if item.live else self.cfg
        gate = QualityGate.from_config(cfg, mode="video", skip=self.skip)
        try:
            request = SessionRequest(f"eval-{item.kind}-{item.name}", self.reference(item.identity))
            session = VerificationSession.from_config(cfg, request, gate, self.matcher, pad=self.backend)
            rec = run_session(clip_source(item.path, cfg), session)
        finally:
            gate.close()
        return outcome_of(item, rec)


def outcome_of(item: Item, rec: dict[str, Any]) -> Outcome:
    """The evaluation row of a session's result record."""
    live = rec.get("liveness") or {}
    pad = live.get("pad") or {}
    accepted = rec["decision"] == "match"
    if item.live:
        accepted = rec["reason_code"] not in REFUSED  # BPCER counts only what liveness refused
    detail = {
        "liveness_reason": live.get("reason"),
        "track_restarts": (live.get("track") or {}).get("restarts"),
        "plan": live.get("plan"),
        "prompt_delay_s": live.get("prompt_delay_s"),
        "prompt_restarts": live.get("restarts"),
    }
    return Outcome(
        item,
        accepted,
        rec["decision"],
        rec["reason_code"],
        pad.get("score"),
        rec["timings"].get("decision_after_face_s"),
        detail,
    )


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """APCER per attack kind, the worst one, BPCER, and the decision time of matched live clips."""
    kinds: dict[str, list[Outcome]] = {}
    for o in outcomes:
        kinds.setdefault(o.item.kind, []).append(o)
    apcer = {
        k: {"n": len(v), "accepted": sum(o.accepted for o in v), "apcer": round(sum(o.accepted for o in v) / len(v), 4)}
        for k, v in sorted(kinds.items())
        if k != "live"
    }
    live = kinds.get("live", [])
    times = [o.decision_s for o in live if o.decision == "match" and o.decision_s is not None]
    return {
        "apcer": apcer,
        "worst_apcer": max((a["apcer"] for a in apcer.values()), default=None),
        "bpcer": round(sum(not o.accepted for o in live) / len(live), 4) if live else None,
        "live": {
            "n": len(live),
            "refused": sum(not o.accepted for o in live),
            "matched": sum(o.decision == "match" for o in live),
            "other": sorted(
                {f"{o.item.name}: {o.decision} {o.reason_code}" for o in live if o.accepted and o.decision != "match"}
            ),
        },
        "live_decision_median_s": round(statistics.median(times), 3) if times else None,
        "items": [o.to_dict() for o in outcomes],
    }
