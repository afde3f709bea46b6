"""Notebooks shipped with the package: app.ipynb is what the `livechat` command serves."""
