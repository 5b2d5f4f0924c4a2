"""Query/Retrieve (Move) SCP, the seed's toy implementation (seed 000).

Usage: python qr_move_scp.py [PORT [DIRECTORY [AET=HOST:PORT ...]]]
Serves the DICOM files in DIRECTORY; each AET=HOST:PORT names a move
destination it knows (default, as in the seed: STORE_SCP=127.0.0.1:11113).
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import os
import sys  # changed from the seed: port, directory and destinations from the command line

from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomwire import AE, StoragePresentationContexts, evt
from dicomwire.sop_class import PatientRootQueryRetrieveInformationModelMove

# changed from the seed: the seed hard-codes these; its values are the defaults
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112
DIRECTORY = sys.argv[2] if len(sys.argv) > 2 else '/path/to/directory'
KNOWN_AETS = sys.argv[3:] or ['STORE_SCP=127.0.0.1:11113']

# changed from the seed: the seed leaves get_known_aet() to the user; this one
# returns {AE title: (address, port)} from the command line
def get_known_aet():
    known = {}
    for entry in KNOWN_AETS:
        aet, _, address = entry.partition('=')
        host, _, port = address.rpartition(':')
        known[aet] = (host, int(port))
    return known

# Implement the evt.EVT_C_MOVE handler
def handle_move(event):
    """Handle a C-MOVE request event."""
    ds = event.identifier

    if 'QueryRetrieveLevel' not in ds:
        # Failure
        yield 0xC000, None
        return

    # get_known_aet() is here to represent a user-implemented method of
    #   getting known AEs, for this example it returns a dict with the
    #   AE titles as keys
    known_aet_dict = get_known_aet()
    try:
        (addr, port) = known_aet_dict[event.move_destination]
    except KeyError:
        # Unknown destination AE
        yield (None, None)
        return

    # Yield the IP address and listen port of the destination AE
    yield (addr, port)

    # Import stored SOP Instances
    instances = []
    matching = []
    fdir = DIRECTORY  # changed from the seed: was '/path/to/directory'
    for fpath in os.listdir(fdir):
        instances.append(dcmread(os.path.join(fdir, fpath)))

    if ds.QueryRetrieveLevel == 'PATIENT':
        if 'PatientID' in ds:
            matching = [
                inst for inst in instances if inst.PatientID == ds.PatientID
            ]

        # Skip the other possible attributes...

    # Skip the other QR levels...

    # Yield the total number of C-STORE sub-operations required
    yield len(matching)

    # Yield the matching instances
    for instance in matching:
        # Check if C-CANCEL has been received
        if event.is_cancelled:
            yield (0xFE00, None)
            return

        # Pending
        yield (0xFF00, instance)

handlers = [(evt.EVT_C_MOVE, handle_move)]

# Create application entity
ae = AE()

# Add the requested presentation contexts (Storage SCU)
ae.requested_contexts = StoragePresentationContexts
# Add a supported presentation context (QR Move SCP)
ae.add_supported_context(PatientRootQueryRetrieveInformationModelMove)

# Start listening for incoming association requests
ae.start_server(('', PORT), evt_handlers=handlers)  # changed from the seed: port was 11112
