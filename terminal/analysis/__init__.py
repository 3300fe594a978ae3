"""Face analysis: MediaPipe landmarks and the per-frame quality gate."""
