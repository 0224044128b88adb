"""Who made EMSeg's models, under which licence, and what to cite (``model.yaml``'s
``authors``, ``license``, ``cite``; the Zoo package's too)."""

__all__ = ["DEFAULT_ABOUT", "about"]

#: Authors, licence and citations of EMSeg's models when ``model.yaml`` names none.
DEFAULT_ABOUT = {
    "authors": [{"name": "EMSeg developers"}],
    "license": "BSD-3-Clause",
    "cite": {
        "fru_net": [{"text": "Gómez-de-Mariscal E. et al., Deep-learning-based segmentation of "
                             "small extracellular vesicles in transmission electron microscopy "
                             "images, Scientific Reports 9, 13211 (2019)",
                     "doi": "10.1038/s41598-019-49431-3"}],
        "multires_unet": [{"text": "Ibtehaz N., Rahman M. S., MultiResUNet: rethinking the U-Net "
                                   "architecture for multimodal biomedical image segmentation, "
                                   "Neural Networks 121, 74-87 (2020)",
                           "doi": "10.1016/j.neunet.2019.08.025"}],
        "unet": [{"text": "Ronneberger O., Fischer P., Brox T., U-Net: convolutional networks "
                          "for biomedical image segmentation, MICCAI 2015",
                  "doi": "10.1007/978-3-319-24574-4_28"}],
        "*": [{"text": "Rühle B., Krumrey J. F., Hodoroaba V.-D., Workflow towards automated "
                       "segmentation of agglomerated, non-spherical particles from electron "
                       "microscopy images using artificial neural networks, Scientific Reports "
                       "11, 4942 (2021)", "doi": "10.1038/s41598-021-84287-6"}],
    },
}


def about(architecture):
    """``{"authors", "license", "cite"}`` of an EMSeg model of ``architecture``: its network's
    paper, then the BAM workflow EMSeg's SEM pipeline follows."""
    return {"authors": [dict(a) for a in DEFAULT_ABOUT["authors"]],
            "license": DEFAULT_ABOUT["license"],
            "cite": [dict(c) for c in DEFAULT_ABOUT["cite"].get(str(architecture), [])
                     + DEFAULT_ABOUT["cite"]["*"]]}
