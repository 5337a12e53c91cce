"""Sphinx configuration for the airflow-provider-orderdesk documentation (built with warnings as errors)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Importing the provider for the API reference imports Airflow, which reads its home at import time.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="orderdesk-docs-airflow-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_orderdesk import __version__

project = "airflow-provider-orderdesk"
author = "The airflow-provider-orderdesk maintainers"
release = version = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Airflow's own classes are documented by Airflow; references to them cannot resolve here.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]

html_theme = "alabaster"
html_title = f"airflow-provider-orderdesk {release}"
