"""Voice prompts: espeak-ng renders each prompt once to a cached WAV; a player thread plays it with aplay."""
