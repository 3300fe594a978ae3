"""The Pi 4 guard: a native library built for ARMv8.1 atomics is refused with one line instead of a SIGILL."""

from __future__ import annotations

from pathlib import Path

from terminal.pimodel import LSE_MARK, lse_problem

PI4 = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU part\t: 0xd08\n"
PI5 = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"


def layout(tmp_path: Path, cpu: str, marked: bool) -> tuple[Path, Path]:
    pkg = tmp_path / "mediapipe" / "tasks" / "c"
    pkg.mkdir(parents=True)
    (pkg / "libmediapipe.so").write_bytes(b"\x7fELF..." + (LSE_MARK if marked else b"plain") + b"...")
    info = tmp_path / "cpuinfo"
    info.write_text(cpu)
    return tmp_path / "mediapipe", info


def test_pi4_cpu_and_lse_library_is_one_clear_line(tmp_path: Path) -> None:
    pkg, info = layout(tmp_path, PI4, marked=True)
    problem = lse_problem(pkg, info, machine="aarch64")
    assert problem is not None
    assert problem.startswith("libmediapipe.so needs ARMv8.1 atomics (LSE)") and "Pi 5" in problem


def test_no_problem_when_the_cpu_has_atomics_or_the_library_does_not_need_them(tmp_path: Path) -> None:
    pkg, info = layout(tmp_path / "a", PI5, marked=True)
    assert lse_problem(pkg, info, machine="aarch64") is None  # Pi 5
    pkg, info = layout(tmp_path / "b", PI4, marked=False)
    assert lse_problem(pkg, info, machine="aarch64") is None  # a build without LSE runs on a Pi 4
    pkg, info = layout(tmp_path / "c", PI4, marked=True)
    assert lse_problem(pkg, info, machine="x86_64") is None  # not ARM at all
    assert lse_problem(pkg, tmp_path / "missing", machine="aarch64") is None  # no cpuinfo: do not guess
