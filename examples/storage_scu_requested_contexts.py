"""Storage SCU set-up: request the 120 common Storage contexts (seed 003).

Usage: python storage_scu_requested_contexts.py
The seed's code with its imports changed from pynetdicom to dicomwire. It
only configures an AE: it checks that the list is accepted as it is.
"""
from dicomwire import AE, StoragePresentationContexts

ae = AE()
ae.requested_contexts = StoragePresentationContexts
