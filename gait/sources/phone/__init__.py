"""Phones as live sources over the local network: Sensor Logger's HTTP Push (a receiver) and phyphox's remote
access (a poller). See docs/phones.md."""
