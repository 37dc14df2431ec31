"""The notebook front end: ``Workbench()`` shows the panel (see :mod:`.panel`).

Widgets live here and only here; the engine (:mod:`workbench.run` and below) never
imports this package.
"""

from .colab import in_colab
from .controls import Controls, code_for
from .live import LiveFigure, chart_mode
from .panel import Workbench

__all__ = ["Controls", "LiveFigure", "Workbench", "chart_mode", "code_for", "in_colab"]
