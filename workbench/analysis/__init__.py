"""What a trained prefix learned: which slots and layers carry it, and what its slots resemble.

:mod:`.ablation` hides slots or layers from attention and scores the run; :mod:`.readout`
ranks vocabulary tokens by how close their keys are to each slot's; :mod:`.masking` is
the mechanism (masking, never editing weights); :mod:`.replay` lets a variant skip the
layers it shares with the full prefix or no prefix; :mod:`.combined` runs all three and
writes them. Figures are in :mod:`workbench.plots`.
"""

from .ablation import KEEP_SHARE, LayerAblation, Score, Scorer, SlotAblation, ablate_layers, ablate_slots
from .combined import Analysis, analyse, save_analysis
from .readout import Readout, slot_readout

__all__ = [
    "KEEP_SHARE",
    "Analysis",
    "LayerAblation",
    "Readout",
    "Score",
    "Scorer",
    "SlotAblation",
    "ablate_layers",
    "ablate_slots",
    "analyse",
    "save_analysis",
    "slot_readout",
]
