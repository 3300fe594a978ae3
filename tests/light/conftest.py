"""Fixtures of the light tests: gpiozero's MockFactory with PWM pins, shared face images, a loop runner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from terminal.camera.recording import read_image_rgb
from terminal.light.controller import LightController, LightState
from terminal.light.devices import LightDevices
from terminal.light.settings import LightConfig
from terminal.light.simscene import SimSource
from tests.support.shared import data


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    """A fresh gpiozero MockFactory whose pins record PWM states."""
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


@pytest.fixture
def cfg() -> LightConfig:
    """The default [light] section with the mock pin factory."""
    return LightConfig(pin_factory="mock")


@pytest.fixture
def devices(cfg: LightConfig, factory: MockFactory) -> Iterator[LightDevices]:
    """Ring light on the mock factory, closed after the test."""
    dev = LightDevices.from_config(cfg, factory)
    yield dev
    dev.close()


@pytest.fixture(scope="session")
def face_images() -> dict[str, np.ndarray]:
    """A few real, differently exposed face images from the shared set."""
    paths = {
        "hopper": data("conditions/single_face") / "mpl_grace_hopper.jpg",
        "astronaut": data("conditions/single_face") / "skimage_astronaut.jpg",
        "yaleB05": data("quality/ok") / "extyaleb_cropped__yaleB05__yaleB05_P00A+000E+00.png",
    }
    return {k: read_image_rgb(Path(p)) for k, p in paths.items()}


@dataclass
class Run:
    """The states of a closed-loop run."""

    states: list[LightState] = field(default_factory=list)

    def first_in_band(self) -> int | None:
        """Index of the first frame measured inside the band."""
        return next((i for i, s in enumerate(self.states) if s.in_band), None)

    @property
    def last(self) -> LightState:
        """The final state."""
        return self.states[-1]


def run_loop(ctl: LightController, src: SimSource, n: int) -> Run:
    """Read ``n`` frames from the sim and feed each to the controller with the sim's face box."""
    run = Run()
    src.start()
    for _ in range(n):
        frame = src.read()
        assert frame is not None
        run.states.append(ctl.update(frame.image, src.face_box, metadata=frame.metadata))
    return run
