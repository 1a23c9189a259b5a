"""vidgan: temporally coherent video GANs (TGANv2, TecoGAN/FRVSR; StyleGAN-V and TimeCycleGAN to come) and
exact-protocol video metrics."""

__version__ = "0.1.0"
