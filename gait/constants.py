"""Constants used across gait: physical (SI), and names the CLI needs before anything heavy is imported."""

G0 = 9.80665  # standard gravity, m/s^2

#: sensor families gait can emulate (``gait record --emulate``, the dashboard's live page)
EMULATED_FAMILIES = ("movesense", "polar", "witmotion", "openimu", "rsc")
