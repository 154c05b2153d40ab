"""One palette for everything gait draws (the dashboard and the HTML report): Okabe & Ito's (2008) colour-blind-
safe set. Left and right stance are always blue and orange, the pair that stays most distinct for the common
forms of colour blindness and in greyscale (dark vs light)."""

LEFT = "#0072B2"  # blue
RIGHT = "#E69F00"  # orange
BOTH = "#000000"  # black: both sides, or no side
ACCENT = "#009E73"  # bluish green
WARN = "#D55E00"  # vermillion: act, spikes
SKY = "#56B4E9"  # sky blue
MUTED = "#999999"  # grey

#: a step's stance side ("L" / "R") -> its colour
SIDE_COLOUR = {"L": LEFT, "R": RIGHT}
