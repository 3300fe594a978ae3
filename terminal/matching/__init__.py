"""Face matching: alignment, TFLite embeddings, templates and calibrated decisions."""
