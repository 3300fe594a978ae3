"""The daemon: wires camera, analysis, light, session, matching and report together."""
