"""The application layer: commands in, events out; timers and processes live here too."""
