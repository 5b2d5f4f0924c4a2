"""Storage SCP for CT only that stores nothing and answers Success (seed 003).

Usage: python storage_scp_minimal.py [PORT]
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: port from the command line

from dicomwire import AE, evt
from dicomwire.sop_class import CTImageStorage

# changed from the seed: the seed hard-codes port 11112; it is the default
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112

ae = AE()

# Add a supported presentation context
ae.add_supported_context(CTImageStorage)

def handle_store(event):
    # Don't store anything but respond with `Success`
    return 0x0000

handlers = [(evt.EVT_C_STORE, handle_store)]

ae.start_server(('', PORT), evt_handlers=handlers)  # changed from the seed: port was 11112
