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

#: a metric along the route, low to high: five steps of the viridis scale (perceptually even, readable with the
#: common colour-vision deficiencies and in greyscale)
SEQUENTIAL = ("#440154", "#3B528B", "#21918C", "#5EC962", "#FDE725")
#: the terrain classes (``gait.analysis.terrain``)
TERRAIN_COLOUR = {"uphill": WARN, "flat": MUTED, "downhill": SKY}
