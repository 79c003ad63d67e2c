"""TEST ONLY: the portal as the security scans see it (``tests/system/test_scans.py``).

Two changes from ``wsgi:app``, made here and nowhere in the portal itself, so that nothing in
production can switch them on from outside:

* CSRF checking is off, so that a scanner's forged POSTs reach the form handlers instead of
  all stopping at the CSRF check;
* the per-client limit on receipt checks (5 a minute) is lifted, so that the scanner's receipt
  tries are answered by the follow-up form and not by "429 Too many tries". The global budgets
  of Argon2id runs (follow-up and sign-in) stay as they are.

Never serve this module.
"""

from __future__ import annotations

import dataclasses

from portal import create_app
from portal.config import Settings

settings = dataclasses.replace(Settings.from_env(), follow_up_per_client=1_000_000)
app = create_app(settings)
app.config["WTF_CSRF_ENABLED"] = False
