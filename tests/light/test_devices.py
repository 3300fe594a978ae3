"""LightDevices on gpiozero's MockFactory: duty ceiling, ramp, off, status LEDs, buzzer, pin errors."""

from __future__ import annotations

import itertools
import logging
import time

import pytest
from gpiozero import PWMLED
from gpiozero.pins.mock import MockFactory

from terminal.config import config_from_dict
from terminal.errors import ConfigError, HardwareError
from terminal.light import devices as devmod
from terminal.light.devices import LightDevices, make_pin_factory
from terminal.light.settings import LightConfig


def pin_states(factory: MockFactory, pin: int) -> list[float]:
    """Every state the mock pin went through."""
    return [float(s.state) for s in factory.pin(pin).states]


def test_duty_is_clamped_and_ramped(devices: LightDevices, factory: MockFactory, cfg: LightConfig) -> None:
    assert devices.duty == 0.0
    got = devices.set_duty(1.0, dt=1 / 30)
    assert got == pytest.approx(min(cfg.max_step, cfg.ramp_per_s / 30))  # one frame's worth of ramp
    for _ in range(20):
        devices.set_duty(1.0, dt=1 / 30)
    assert devices.duty == pytest.approx(cfg.max_duty)
    states = pin_states(factory, cfg.ring_pin)
    assert max(states) <= cfg.max_duty
    steps = [b - a for a, b in itertools.pairwise(states)]
    assert max(steps) <= cfg.max_step + 1e-9
    devices.off()
    assert pin_states(factory, cfg.ring_pin)[-1] == 0.0
    assert devices.duty == 0.0


def test_ramp_follows_the_clock(devices: LightDevices) -> None:
    devices.set_duty(0.8, dt=0.0)
    assert devices.duty == 0.0  # no time passed: no change allowed
    devices.set_duty(0.8, dt=0.01)
    assert devices.duty == pytest.approx(0.06)  # 6 duty/s for 10 ms


def test_close_turns_off_and_releases_pins(cfg: LightConfig, factory: MockFactory) -> None:
    dev = LightDevices.from_config(cfg, factory)
    dev.set_duty(0.5, dt=1.0)
    dev.close()
    assert pin_states(factory, cfg.ring_pin)[-1] == 0.0
    assert dev.duty == 0.0
    dev.close()  # idempotent
    again = PWMLED(cfg.ring_pin, pin_factory=factory)  # the pin is free again
    again.close()


def test_second_channel_status_leds_and_buzzer(factory: MockFactory) -> None:
    cfg = LightConfig(
        pin_factory="mock",
        ring2_pin=13,
        ring2_ratio=0.5,
        ready_pin=5,
        working_pin=6,
        pass_pin=16,
        fail_pin=20,
        buzzer_pin=21,
    )
    with LightDevices.from_config(cfg, factory) as dev:
        dev.set_duty(0.2, dt=1.0)
        assert pin_states(factory, cfg.ring_pin)[-1] == pytest.approx(0.2)
        assert pin_states(factory, 13)[-1] == pytest.approx(0.1)
        dev.show("pass")
        assert factory.pin(16).state and not factory.pin(5).state and not factory.pin(20).state
        dev.show("fail")
        assert factory.pin(20).state and not factory.pin(16).state
        dev.show("idle")
        assert factory.pin(5).state and not factory.pin(20).state
        dev.beep("fail")
        deadline = time.monotonic() + 3
        while len(factory.pin(21).states) < 7 and time.monotonic() < deadline:
            time.sleep(0.02)
        factory.pin(21).assert_states([False, True, False, True, False, True, False])
        with pytest.raises(ValueError):
            dev.beep("siren")
    assert pin_states(factory, 13)[-1] == 0.0
    assert not factory.pin(5).state


def test_invalid_pin_names_key_and_pin(factory: MockFactory) -> None:
    bad = LightConfig(pin_factory="mock").model_copy(update={"ring_pin": 99})  # bypasses validation on purpose
    with pytest.raises(HardwareError, match=r"light\.ring_pin = 99"):
        LightDevices.from_config(bad, factory)


def test_pin_in_use_names_key_and_pin(factory: MockFactory) -> None:
    other = PWMLED(18, pin_factory=factory)
    try:
        with pytest.raises(HardwareError, match=r"light\.ring_pin = 18"):
            LightDevices.from_config(LightConfig(pin_factory="mock"), factory)
    finally:
        other.close()


def test_failed_open_releases_earlier_pins(factory: MockFactory) -> None:
    other = PWMLED(21, pin_factory=factory)
    cfg = LightConfig(pin_factory="mock", buzzer_pin=21)
    with pytest.raises(HardwareError, match=r"light\.buzzer_pin = 21"):
        LightDevices.from_config(cfg, factory)
    other.close()
    PWMLED(cfg.ring_pin, pin_factory=factory).close()  # ring pin was released by the failed constructor


def test_duplicate_pins_rejected_by_config() -> None:
    with pytest.raises(ConfigError, match="buzzer_pin = 18 is already used by ring_pin"):
        config_from_dict({"light": {"buzzer_pin": 18}})
    with pytest.raises(ConfigError, match="target_low"):
        config_from_dict({"light": {"target_low": 150, "target_high": 120}})


def test_auto_falls_back_to_mock_off_pi(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(devmod, "is_raspberry_pi", lambda *a: False)
    monkeypatch.setattr(devmod, "FACTORIES", {"nosuch": "terminal.light.nosuchmodule:Factory"})
    with caplog.at_level(logging.WARNING, logger="terminal.light.devices"):
        f = make_pin_factory("auto")
    assert isinstance(f, MockFactory)
    assert "SIMULATED" in caplog.text and "nosuch" in caplog.text


def test_auto_on_a_pi_without_driver_is_a_hardware_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devmod, "is_raspberry_pi", lambda *a: True)
    monkeypatch.setattr(devmod, "FACTORIES", {"nosuch": "terminal.light.nosuchmodule:Factory"})
    with pytest.raises(HardwareError, match="no GPIO pin factory loads"):
        make_pin_factory("auto")


@pytest.mark.skipif(devmod.is_raspberry_pi(), reason="on a Pi pigpio may really load")
def test_named_factory_that_cannot_load() -> None:
    with pytest.raises(HardwareError, match=r"light\.pin_factory = 'pigpio' cannot load"):
        make_pin_factory("pigpio")
