"""The hardware-PWM ring-light driver (sysfs) on a fake /sys/class/pwm, its selection, and the Pi model rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import Config
from terminal.errors import HardwareError
from terminal.light.controller import LightController, whole_pwm_periods
from terminal.light.devices import LightDevices, mock_factory, ring_driver
from terminal.light.fakepwm import FakePWMSysfs
from terminal.light.hwpwm import SysfsPWMLED, find_chip
from terminal.light.settings import LightConfig
from terminal.pimodel import default_fps, pi_model


@pytest.fixture
def sysfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    with FakePWMSysfs(tmp_path / "pwm", delay_s=0.05) as fake:
        yield fake


def hw_cfg(**kw: object) -> LightConfig:
    return LightConfig.model_validate({"driver": "sysfs_pwm", "pin_factory": "mock", **kw})


def test_ring_light_on_hardware_pwm_through_light_devices(sysfs: FakePWMSysfs) -> None:
    cfg = hw_cfg(ring_pin=18, ring2_pin=19, ring2_ratio=0.5, ready_pin=5)
    devices = LightDevices.from_config(cfg, mock_factory(), sysfs_root=sysfs.root)
    assert devices.driver == "sysfs_pwm" and devices.pwm_hz == 24000
    assert sorted(sysfs.exports) == [0, 1]  # GPIO18 -> channel 0, GPIO19 -> channel 1 (Pi 4 PWM0)
    period = round(1e9 / 24000)
    assert sysfs.state(0) == {"period": period, "duty_cycle": 0, "enable": 1}
    for _ in range(10):
        devices.set_duty(0.6, dt=1 / 30)
    assert devices.duty == pytest.approx(0.6)
    assert sysfs.state(0)["duty_cycle"] == int(0.6 * period)
    assert sysfs.state(1)["duty_cycle"] == int(0.3 * period)  # second channel at ring2_ratio
    assert devices.ring.pin.state == pytest.approx(0.6, abs=1e-4)  # read back from "the kernel"
    devices.show("idle")  # status LEDs stay on gpiozero's pins
    devices.off()
    assert sysfs.state(0)["duty_cycle"] == 0
    devices.close()
    assert not sysfs.channel(0).exists() and not sysfs.channel(1).exists()  # unexported
    assert devices.duty == 0.0
    assert sysfs.violations == []  # never duty > period


def test_max_duty_and_ramp_hold_on_hardware_pwm(sysfs: FakePWMSysfs) -> None:
    with LightDevices.from_config(hw_cfg(max_duty=0.5), mock_factory(), sysfs_root=sysfs.root) as devices:
        first = devices.set_duty(1.0, dt=1 / 30)
        assert 0 < first <= 0.2 + 1e-9  # max_step
        for _ in range(20):
            devices.set_duty(1.0, dt=1 / 30)
        assert devices.duty == pytest.approx(0.5)
        assert sysfs.state(0)["duty_cycle"] <= 0.5 * sysfs.state(0)["period"]


def test_errors_name_the_key(sysfs: FakePWMSysfs, tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match=r"light.ring_pin = 17: not a hardware PWM pin"):
        LightDevices.from_config(hw_cfg(ring_pin=17), mock_factory(), sysfs_root=sysfs.root)
    with pytest.raises(HardwareError, match="no PWM chip .* 'dtoverlay=pwm-2chan"):
        LightDevices.from_config(hw_cfg(), mock_factory(), sysfs_root=tmp_path / "empty")
    with pytest.raises(HardwareError, match="light.pwm_chip = 3"):
        LightDevices.from_config(hw_cfg(pwm_chip=3), mock_factory(), sysfs_root=sysfs.root)


def test_export_that_never_appears_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chip = tmp_path / "pwmchip0"
    chip.mkdir()
    (chip / "export").write_text("")  # a kernel that ignores the export (udev never runs)
    monkeypatch.setattr("terminal.light.hwpwm.EXPORT_WAIT_S", 0.1)
    with pytest.raises(HardwareError, match="pwm0 did not appear"):
        SysfsPWMLED(18, 24000, root=tmp_path)


def test_chip_choice_among_several(tmp_path: Path) -> None:
    with (
        FakePWMSysfs(tmp_path, chip=0, device="other.pwm"),
        FakePWMSysfs(tmp_path, chip=2, npwm=4, device="1f00098000.pwm"),
    ):
        assert find_chip(tmp_path, model="pi5").name == "pwmchip2"  # RP1's PWM0 on a Pi 5
        with pytest.raises(HardwareError, match="set light.pwm_chip"):
            find_chip(tmp_path, model="pi4")


def test_pi5_channel_map(tmp_path: Path) -> None:
    with FakePWMSysfs(tmp_path, npwm=4, device="1f00098000.pwm") as fake:
        led = SysfsPWMLED(18, 24000, root=tmp_path, model="pi5")
        assert led.channel == 2 and fake.channel(2).exists()
        led.value = 0.25
        assert fake.state(2)["duty_cycle"] == int(0.25 * round(1e9 / 24000))
        led.close()
        led.close()  # idempotent
        with pytest.raises(HardwareError, match="closed"):
            led.value = 0.5


def test_auto_driver_is_hardware_pwm_on_pi4_and_pi5(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = LightConfig()
    for model, expected in (("pi4", "sysfs_pwm"), ("pi5", "sysfs_pwm"), ("pi3", "gpiozero"), (None, "gpiozero")):
        monkeypatch.setattr("terminal.light.devices.pi_model", lambda m=model: m)
        assert ring_driver(cfg) == expected
    assert ring_driver(cfg, mock_factory()) == "gpiozero"  # an explicit (mock) factory: simulators and tests
    assert ring_driver(LightConfig(driver="gpiozero")) == "gpiozero"


def test_pi_model_and_fps_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "model"
    for text, model, fps in (
        ("Raspberry Pi 5 Model B Rev 1.0\0", "pi5", 30.0),
        ("Raspberry Pi 4 Model B Rev 1.5\0", "pi4", 15.0),
        ("Raspberry Pi Compute Module 4 Rev 1.1\0", "pi4", 15.0),
        ("Raspberry Pi Zero 2 W Rev 1.0\0", "pizero2", 30.0),
        ("Some ARM board\0", None, 30.0),
    ):
        f.write_text(text)
        assert pi_model(f) == model and default_fps(f) == fps
    assert pi_model(tmp_path / "missing") is None
    f.write_text("Raspberry Pi 4 Model B Rev 1.5\0")
    monkeypatch.setattr("terminal.pimodel.MODEL_FILE", f)
    assert Config.model_validate({"camera": {"backend": "picamera2"}}).camera.fps == 15.0  # unset: the Pi 4 budget
    assert Config.model_validate({"camera": {"fps": 24}}).camera.fps == 24.0  # set: kept


def test_controller_exposures_span_whole_pwm_periods(sysfs: FakePWMSysfs) -> None:
    period = 1e6 / 24000
    assert whole_pwm_periods(10000, period) == pytest.approx(10000)  # 240 periods
    assert whole_pwm_periods(8333.3, period) == pytest.approx(8333.333, abs=1e-3)  # 200 periods (60 Hz mains)
    assert whole_pwm_periods(5013, period) == pytest.approx(5000)
    assert whole_pwm_periods(30, period) == 30  # below one period: unchanged
    with LightDevices.from_config(hw_cfg(), mock_factory(), sysfs_root=sysfs.root) as devices:
        ctl = LightController(devices.cfg, devices, None, flicker_hz=60)
        assert ctl.pwm_period_us == pytest.approx(period)
        for product in (0.13, 0.5013, 0.77, 1.0, 2.2):
            exposure, _gain = ctl._split(product)
            assert abs(exposure / period - round(exposure / period)) * period <= 0.5  # whole periods (1 µs grid)
