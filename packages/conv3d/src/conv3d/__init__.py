"""3D convolutional classifiers (AdrenalMNIST3D) in Keras and PyTorch.

Modules: ``augment`` (3D augmentation, numpy and torch), ``torch_models`` / ``keras_models``
(a 3D CNN and a 3D ResNet each, with seeded, resumable training), ``results``
(``TrainResult``), ``metrics`` (ACC, ROC-AUC),
``ct`` (the NIfTI CT pipeline of the COVID CT classifier), ``visualize`` (slices, projections,
Grad-CAM, ROC) and ``train`` (command line). Importing the package imports no framework.
"""

__version__ = "0.1.0"
