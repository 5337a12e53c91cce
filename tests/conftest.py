"""Test-wide set-up: a throw-away Airflow home, so that no test reads or writes the developer's own."""

from __future__ import annotations

import os
import tempfile

# Airflow reads its home when first imported, so this must happen before any test module imports it.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="orderdesk-tests-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
