"""Face-verification capture terminal.

Frames flow camera -> analysis -> session -> matching -> report; the light sits beside the
camera and the daemon only wires the packages together.
"""

__version__ = "0.1.0"
