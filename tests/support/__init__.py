"""Test support: locating shared data and models, brokers, recordings."""
