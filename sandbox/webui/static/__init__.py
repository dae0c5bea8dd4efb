"""The web UI page, its script and its stylesheet, shipped as package data."""
