"""Storage SCP writing each received instance to a DICOM file (seed 003).

Usage: python storage_scp.py [PORT]
Files are written to the current directory, named by SOP Instance UID.
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: port from the command line

from pydicom.dataset import Dataset

from dicomwire import (
    AE, evt,
    StoragePresentationContexts,
    IMPLEMENTATION_UID,
    IMPLEMENTATION_VERSION
)

# changed from the seed: the seed hard-codes port 11112; it is the default
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112

# Implement a handler evt.EVT_C_STORE
def handle_store(event):
    """Handle a C-STORE request event."""
    # Decode the C-STORE request's *Data Set* parameter to a pydicom Dataset
    ds = event.dataset

    # Add the File Meta Information
    ds.file_meta = event.file_meta

    # Save the dataset using the SOP Instance UID as the filename
    ds.save_as(ds.SOPInstanceUID, write_like_original=False)

    # Return a 'Success' status
    return 0x0000

handlers = [(evt.EVT_C_STORE, handle_store)]

# Initialise the Application Entity
ae = AE()

# Add the supported presentation contexts
ae.supported_contexts = StoragePresentationContexts

# Start listening for incoming association requests
ae.start_server(('', PORT), evt_handlers=handlers)  # changed from the seed: port was 11112
