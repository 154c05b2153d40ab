"""The Dash dashboard for gait (runs, run detail with hip findings, trends, live sessions).

It imports gait's public API only; gait never imports dashboards. The app arrives with the dashboard
issue; until then ``gait analyze`` is the main command.
"""
