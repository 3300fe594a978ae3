"""The quality gate's version: bump it whenever a measure, a default limit or a reason code changes.

The shipped match threshold is calibrated on the images this gate accepts, so it is only valid for the gate
version it was calibrated with: ``terminal calibrate`` records this string and a test refuses a shipped
calibration made with another version (re-run the calibration after changing the gate).
"""

from __future__ import annotations

# 2026-12-02: glasses split (DARK_GLASSES, GLARE_ON_GLASSES, heavy frames; clear glasses pass), third look
# (equalised / padded / zoomed frame) before NO_FACE, washed-out judged on the forehead, yaw limit 15 -> 20 deg.
GATE_VERSION = "2026-12-02.2"
