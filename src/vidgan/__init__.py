"""vidgan: temporally coherent video GANs (TGANv2, StyleGAN-V, TecoGAN/FRVSR, TimeCycleGAN) and exact-protocol metrics."""

__version__ = "0.1.0"
