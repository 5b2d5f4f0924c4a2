"""Storage SCP in non-blocking mode: serve for a while, then shut down (seed 003).

Usage: python storage_scp_nonblocking.py [PORT [SECONDS]]
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: port and duration from the command line
import time  # changed from the seed: the seed calls time.sleep() without importing time

from dicomwire import AE, evt
from dicomwire.sop_class import CTImageStorage

# changed from the seed: the seed hard-codes port 11112 and 60 s; they are the defaults
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 60

def handle_store(event):
    return 0x0000

handlers = [(evt.EVT_C_STORE, handle_store)]

ae = AE()
ae.add_supported_context(CTImageStorage)
# changed from the seed: the seed's line lacks the comma after block=False (a
# syntax error); the port was 11112
scp = ae.start_server(('', PORT), block=False, evt_handlers=handlers)

# Zzzz
time.sleep(SECONDS)  # changed from the seed: was time.sleep(60)

scp.shutdown()
