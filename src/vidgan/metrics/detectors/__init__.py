"""vidgan.metrics.detectors: feature networks in plain torch (no torchvision), loading converted weights.

- ``i3d``: DeepMind I3D Kinetics-400 with TF-Hub semantics (FVD; BN eps 1e-3, TF SAME padding).
- ``inception``: Inception-v3 TF 2015-12-05 graph in pytorch-fid's key layout (FID pool3).
- ``c3d``: C3D UCF101 (video IS, TGANv2 C3D-fc7 "FID").
- ``alexnet_lpips``: AlexNet features + LPIPS v0.1 linear heads.

Modules are imported on demand; nothing here loads weights at import time.
"""
