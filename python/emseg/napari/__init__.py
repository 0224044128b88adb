"""EMSeg in napari (``pip install emseg[napari]``): a reader for tomograms and EMSeg's vesicle
outputs, and a dock widget that segments the vesicles of a tomogram and corrects them by hand
as CryoVesNet's napari tool does (click to add a refined sphere, click to remove, undo, save
the table, labels and IMOD model together).

:mod:`.editor` holds the corrections without napari; :mod:`._reader` and :mod:`._widget` are
the npe2 contributions named in ``napari.yaml``.
"""

from .editor import VesicleEditor

__all__ = ["VesicleEditor"]
