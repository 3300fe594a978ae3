"""Ring light, status LEDs and buzzer on GPIO through gpiozero, and the exposure controller."""

# The config schema imports our settings module; loading terminal.config first keeps that import order
# whichever module of this package is imported first.
import terminal.config  # noqa: F401
