"""The shipped scenarios, as a data package: ``*.toml`` and ``README.md`` (the values and their sources).

No code: :mod:`sim.catalog` finds the files here by name, so that
``airpicture run iraq_2012_baseline`` works from any folder once the wheel is
installed. In a wheel this package also holds ``scenario-format.md`` (from
``docs/``, see ``setup.py``).
"""
