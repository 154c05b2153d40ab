"""Bluetooth Low Energy sensors: a small GATT interface (``link``), one driver per device family
(``devices``), sessions that connect, stream, reconnect and mark gaps (``session``)."""
