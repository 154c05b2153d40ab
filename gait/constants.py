"""Physical constants used across gait (SI)."""

G0 = 9.80665  # standard gravity, m/s^2
