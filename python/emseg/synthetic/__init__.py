"""Synthetic images, label images and volumes with known content (pure NumPy).

Used for the bundled example, the tests, the benchmarks and, above all, as
training data that can be shipped (the BAM workflow trains its segmentation
network on simulated images only). One module per modality:

- :mod:`~emseg.synthetic.sem`: SEM particles (:func:`sem_agglomerates`, the
  example scene :func:`particle_labels` / :func:`render_micrograph`);
- :mod:`~emseg.synthetic.tem`: negative-stain TEM images of extracellular vesicles,
  16-bit, dark or light, with clusters and debris (:func:`tem_vesicles`);
- :mod:`~emseg.synthetic.cryoet`: cryo-electron tomograms of synapses with synaptic
  vesicles (:func:`synapse_tomogram`);
- :mod:`~emseg.synthetic.fitness`: classifier-filter training data
  (segmentation errors and fitness classes);
- :mod:`~emseg.synthetic.classes`: multi-class scenes with exact class labels
  (:func:`organelle_classes`);
- :mod:`~emseg.synthetic.noise`: smooth random fields (:func:`perlin_noise`);
- :mod:`~emseg.synthetic.base`: the :class:`SyntheticImage` result.
"""

from .base import SyntheticImage
from .classes import ORGANELLE_CLASSES, organelle_classes
from .cryoet import SyntheticTomogram, ctf_1d, synapse_tomogram
from .fitness import FITNESS_CLASSES, ClassifierExample, segmentation_errors, sem_classifier_example
from .noise import perlin_noise
from .sem import particle_labels, render_micrograph, sem_agglomerates
from .tem import tem_vesicles

__all__ = ["particle_labels", "render_micrograph", "perlin_noise", "SyntheticImage",
           "sem_agglomerates", "tem_vesicles", "FITNESS_CLASSES", "ClassifierExample",
           "segmentation_errors", "sem_classifier_example", "SyntheticTomogram",
           "synapse_tomogram", "ctf_1d", "organelle_classes", "ORGANELLE_CLASSES"]
