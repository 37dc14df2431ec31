"""Google Colab: detect it, turn on its widget manager, and download files from it.

Colab differs from JupyterLab in ways the panel must respect: third-party widgets
need ``google.colab.output.enable_custom_widget_manager()``; widget updates sent
from background threads do not reach the page; button clicks are handled only when
no cell is running. So on Colab the panel trains in the foreground (see
:mod:`.panel`). Tests simulate Colab with a fake ``google.colab`` module. Nothing
here touches runs or widgets.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

__all__ = ["download", "enable_widgets", "in_colab"]


def in_colab() -> bool:
    """True inside a Google Colab kernel (its ``google.colab`` module is loaded there)."""
    return "google.colab" in sys.modules


def enable_widgets() -> bool:
    """Enable Colab's custom widget manager (needed for ipywidgets/anywidget); False elsewhere."""
    if not in_colab():
        return False
    from google.colab import output  # type: ignore[import-not-found]

    output.enable_custom_widget_manager()
    return True


def download(run_dir: str | Path) -> Path:
    """Zip a run directory next to it and, on Colab, hand the zip to the browser as a download."""
    run_dir = Path(run_dir)
    archive = Path(shutil.make_archive(str(run_dir), "zip", root_dir=run_dir.parent, base_dir=run_dir.name))
    if in_colab():
        from google.colab import files  # type: ignore[import-not-found]

        files.download(str(archive))
    return archive
