"""Query/Retrieve (Get) SCP, the seed's toy implementation (seed 001).

Usage: python qr_get_scp.py [PORT [DIRECTORY]]
Serves the DICOM files in DIRECTORY. The seed's code with its imports
changed from pynetdicom to dicomwire; the other changes are marked "changed
from the seed". (The seed document lost its line breaks and indentation;
they are restored here as Python requires, nothing else.)
"""
import os
import sys  # changed from the seed: port and directory from the command line

from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomwire import AE, StoragePresentationContexts, evt
from dicomwire.sop_class import PatientRootQueryRetrieveInformationModelGet

# changed from the seed: the seed hard-codes these; its values are the defaults
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112
DIRECTORY = sys.argv[2] if len(sys.argv) > 2 else '/path/to/directory'

# Implement the handler for evt.EVT_C_GET
def handle_get(event):
    """Handle a C-GET request event."""
    ds = event.identifier

    if 'QueryRetrieveLevel' not in ds:
        # Failure
        yield 0xC000, None
        return

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
    yield len(instances)

    # Yield the matching instances
    for instance in matching:
        # Check if C-CANCEL has been received
        if event.is_cancelled:
            yield (0xFE00, None)
            return

        # Pending
        yield (0xFF00, instance)

# changed from the seed: the seed's line is `handlers = [(evt.EVT_C_GET), handle_get]`,
# a misplaced parenthesis that makes a list of the event and the handler
handlers = [(evt.EVT_C_GET, handle_get)]

# Create application entity
ae = AE()

# Add the supported presentation contexts (Storage SCU)
ae.supported_contexts = StoragePresentationContexts

# Accept the association requestor's proposed SCP role in the
# SCP/SCU Role Selection Negotiation items
for cx in ae.supported_contexts:
    cx.scp_role = True
    cx.scu_role = False

# Add a supported presentation context (QR Get SCP)
ae.add_supported_context(PatientRootQueryRetrieveInformationModelGet)

# Start listening for incoming association requests
ae.start_server(('', PORT), evt_handlers=handlers)  # changed from the seed: port was 11112
