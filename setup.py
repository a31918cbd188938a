"""One build step that pyproject.toml cannot declare: the scenario format doc goes into the wheel.

``docs/scenario-format.md`` stays the one source in the repository (the
client's layout: ``docs/`` beside ``scenarios/``); the wheel carries it
inside the ``scenarios`` data package, beside the shipped scenario files,
where :func:`sim.catalog.format_doc_text` reads it (``airpicture scenarios
--format``). Everything else is configured in pyproject.toml. An editable
install reads the repository's own ``docs/`` instead, so nothing is copied
there.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FORMAT_DOC = Path("docs") / "scenario-format.md"


class BuildPyWithFormatDoc(build_py):
    """``build_py``, then the format doc into ``<build_lib>/scenarios/`` (not in editable mode)."""

    def run(self):
        super().run()
        if not self.editable_mode:
            self.copy_file(str(FORMAT_DOC), str(Path(self.build_lib) / "scenarios" / FORMAT_DOC.name))


setup(cmdclass={"build_py": BuildPyWithFormatDoc})
