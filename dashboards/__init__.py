"""gait's Dash dashboard: runs, run detail with hip findings, trends, and a live session view.

It uses gait's public API only (gait never imports it). Start it with ``gait dashboard``; build it in code
with ``dashboards.app.create_app(data_dir, store_path)``.
"""
