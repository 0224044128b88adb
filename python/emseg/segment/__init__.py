"""From micrographs and tomograms to labelled objects.

- :mod:`~emseg.segment.tiling`: N-dimensional tiled prediction with
  sine-ramp blending (2D images and 3D volumes, one code path);
- :mod:`~emseg.segment.scaling`: rescaling to a model's pixel/voxel size
  (per axis) and back, percentile normalisation;
- :mod:`~emseg.segment.postprocess`: the post-processing chains (BAM
  watershed, FRU-Net with Radon splitting), one function per step;
- :mod:`~emseg.segment.databar`: the microscope's data bar;
- :mod:`~emseg.segment.classical`: the classical (no network) baseline;
- :mod:`~emseg.segment.vesicles`: synaptic vesicles in tomograms (the shell-intensity
  global threshold, adaptive local thresholds);
- :mod:`~emseg.segment.spheres`: vesicles as refined spheres (CryoVesNet's radial
  profile refinement), sub-voxel, with :mod:`~emseg.segment.recentre` (cross-correlation and
  26-direction centre corrections) and :mod:`~emseg.segment.outliers` (profile features,
  Mahalanobis p-values);
- :mod:`~emseg.segment.pipeline`: :func:`segment`, the one pipeline
  function that composes them for images (:func:`predict_maps` then
  :func:`labels_from_maps`);
- :mod:`~emseg.segment.volume`: :func:`segment_volume`, the same for tomograms
  (vesicles);
- :mod:`~emseg.segment.semantic`: :func:`segment_classes`, every pixel one of a semantic
  model's classes (organelles), with the objects of its instance classes.

No TensorFlow here: networks come in as callables on batches of tiles.
"""

from .classical import segment_classical, tem_vesicles_classical
from .databar import detect_databar
from .pipeline import ModelMaps, Segmentation, labels_from_maps, predict_maps, segment
from .semantic import ClassSegmentation, class_areas, class_objects, segment_classes
from .postprocess import postprocess
from .scaling import normalize, rescale, rescale_factor
from .outliers import mahalanobis_pvalues
from .spheres import Spheres, draw_spheres, refine_sphere, refine_spheres
from .tiling import blend_weights, fit_tile, patch_starts, predict_tiled
from .vesicles import adaptive_threshold, logit_thresholds, shell_intensity, shell_threshold
from .volume import VolumeSegmentation, segment_volume

__all__ = ["segment", "Segmentation", "predict_maps", "labels_from_maps", "ModelMaps", "predict_tiled", "blend_weights", "fit_tile",
           "patch_starts", "rescale", "rescale_factor", "normalize", "postprocess",
           "detect_databar", "segment_classical", "tem_vesicles_classical", "adaptive_threshold", "logit_thresholds",
           "shell_intensity", "shell_threshold", "segment_volume", "VolumeSegmentation",
           "refine_spheres", "refine_sphere", "Spheres", "draw_spheres", "mahalanobis_pvalues",
           "segment_classes", "ClassSegmentation", "class_objects", "class_areas"]
