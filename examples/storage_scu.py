"""Storage SCU: send one CT data set to a Storage SCP (seed 003, "Storage SCU").

Usage: python storage_scu.py [DATASET [PORT]]
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: data set path and port from the command line

from pydicom import dcmread

from dicomwire import AE
from dicomwire.sop_class import CTImageStorage

# changed from the seed: the seed hard-codes these; its values are the defaults
DATASET = sys.argv[1] if len(sys.argv) > 1 else 'path/to/dataset'
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 11112

# Initialise the Application Entity
ae = AE()

# Add a requested presentation context
ae.add_requested_context(CTImageStorage)

# Read in our DICOM CT dataset
ds = dcmread(DATASET)  # changed from the seed: was dcmread('path/to/dataset')

# Associate with peer AE at IP 127.0.0.1 and port 11112
assoc = ae.associate('127.0.0.1', PORT)  # changed from the seed: port was 11112

if assoc.is_established:
    # Use the C-STORE service to send the dataset
    # returns the response status as a pydicom Dataset
    status = assoc.send_c_store(ds)

    # Check the status of the storage request
    if status:
        # If the storage request succeeded this will be 0x0000
        print('C-STORE request status: 0x{0:04x}'.format(status.Status))
    else:
        print('Connection timed out, was aborted or received invalid response')

    # Release the association
    assoc.release()
else:
    print('Association rejected, aborted or never connected')
