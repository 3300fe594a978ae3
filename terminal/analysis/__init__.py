"""Face analysis: MediaPipe landmarks and the per-frame quality gate."""

# Load the config package first: its schema imports our settings module, and importing our settings first
# (e.g. `from terminal.analysis.gate import QualityGate` in a fresh interpreter) would otherwise be circular.
import terminal.config  # noqa: F401
