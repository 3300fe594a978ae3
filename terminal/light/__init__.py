"""Ring light, status LEDs and buzzer on GPIO through gpiozero, and the exposure controller."""
