"""Storage SCU with presentation contexts chosen per association (seed 003).

Usage: python storage_scu_contexts.py [PORT]
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: port from the command line

from pydicom import dcmread

from dicomwire import AE, build_context
from dicomwire.sop_class import CTImageStorage, MRImageStorage

# changed from the seed: the seed hard-codes port 11112; it is the default
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112

# Initialise the Application Entity
ae = AE()

# Create some presentation contexts
ct_context = build_context(CTImageStorage)
mr_context = build_context(MRImageStorage)

# Associate with peer AE at IP 127.0.0.1 and port 11112
assoc = ae.associate('127.0.0.1', PORT, contexts=[ct_context])  # changed from the seed: port
assoc.release()

assoc = ae.associate('127.0.0.1', PORT, contexts=[mr_context])  # changed from the seed: port
assoc.release()
