"""Passive presentation-attack detection (PAD): pluggable backends scoring face crops, fused over frames.

``PadBackend`` (base.py) takes a frame and a stable face box and returns a liveness probability; the MiniFASNet
pair (minifasnet.py) is the shipped backend. ``PadFusion`` collects several frames of a session and decides
against a calibrated threshold (calibration.py). See docs/liveness.md.
"""
