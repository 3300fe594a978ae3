"""Verification session: guidance, liveness, capture and the result record."""
