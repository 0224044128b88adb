"""File-level workflows shared by the command line and the Fiji plugin.

Each function takes paths (or arrays with their pixel size), reads through
:mod:`emseg.io`, computes with the pure algorithms and returns results; the
caller decides what to write. One module per task: :mod:`~.measure`,
:mod:`~.segment`, :mod:`~.semantic` (multi-class models), :mod:`~.filter`, :mod:`~.evaluate`, :mod:`~.compare` (samples' tables
against each other), :mod:`~.training`
(reading training data), :mod:`~.info` (what a file holds); :mod:`~.files`
holds what they share (checked loading, bundled samples, pairing by name).
:mod:`~.batch` turns one input file into its written result files (the jobs of ``emseg
segment``, ``filter`` and ``measure``) and :mod:`~.cluster` runs such jobs one after the
other or as Dask tasks; :mod:`~.large` segments an image larger than memory in chunks.
"""

from .batch import FileOutcome, filter_to_folder, measure_to_folder, segment_to_folder
from .cluster import dask_client, run_jobs
from .compare import compare_tables, sample_tables, sample_values, write_comparison
from .convert import imagej_dtype, imagej_image
from .evaluate import (ClassEvaluation, EvaluateResult, VolumeEvaluation, class_evaluation_tables,
                       evaluate_class_files, evaluate_files, evaluate_volume_files,
                       evaluation_table, fru_net_table, pooled_scores, volume_evaluation_table)
from .files import (ROLE_SUFFIXES, example_files, expand_folders, file_calibration, load_image,
                    load_labels, pair_files, pair_key, sample_files)
from .filter import FilterResult, filter_array, filter_file
from .info import FileInfo, file_info
from .large import segment_large_file
from .measure import MeasureResult, combine_tables, measure_file
from .segment import (SegmentResult, VolumeResult, load_volume, segment_array, segment_file,
                      segment_volume_array, segment_volume_file, volume_input)
from .semantic import (ClassResult, class_output_paths, segment_classes_array,
                       segment_classes_file, write_class_outputs)
from .training import apply_class_map, classifier_triples, parse_class_map, training_pairs
from .vesicles import table_centres, volume_output_paths, write_volume_outputs

__all__ = ["load_labels", "load_image", "file_calibration", "example_files", "sample_files",
           "expand_folders", "ROLE_SUFFIXES", "pair_key", "pair_files", "MeasureResult",
           "measure_file", "combine_tables", "SegmentResult", "segment_array", "segment_file",
           "VolumeResult", "load_volume", "volume_input", "segment_volume_array",
           "segment_volume_file", "volume_output_paths", "write_volume_outputs", "table_centres",
           "FilterResult", "filter_array", "filter_file", "training_pairs", "classifier_triples",
           "EvaluateResult", "evaluate_files", "VolumeEvaluation", "evaluate_volume_files",
           "volume_evaluation_table", "evaluation_table", "pooled_scores", "fru_net_table",
           "compare_tables", "sample_tables", "sample_values", "write_comparison", "FileInfo",
           "file_info", "imagej_dtype", "imagej_image", "ClassEvaluation", "evaluate_class_files",
           "class_evaluation_tables", "ClassResult", "segment_classes_array",
           "segment_classes_file", "class_output_paths", "write_class_outputs",
           "parse_class_map", "apply_class_map", "FileOutcome", "segment_to_folder",
           "filter_to_folder", "measure_to_folder", "dask_client", "run_jobs",
           "segment_large_file"]
