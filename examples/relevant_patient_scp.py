"""Relevant Patient Information Query SCP, the seed's toy implementation (seed 002).

Usage: python relevant_patient_scp.py [PORT [DIRECTORY]]
Answers from the DICOM files in DIRECTORY. The seed's code with its imports
changed from pynetdicom to dicomwire; the other changes are marked "changed
from the seed".
"""
import os
import sys  # changed from the seed: port and directory from the command line

from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomwire import AE, evt
from dicomwire.sop_class import GeneralRelevantPatientInformationQuery

# changed from the seed: the seed hard-codes these; its values are the defaults
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112
DIRECTORY = sys.argv[2] if len(sys.argv) > 2 else '/path/to/directory'

# changed from the seed: the seed leaves create_template() to the user; this
# one answers with the query's patient keys and template, values filled in
def create_template(instance, query):
    identifier = Dataset()
    identifier.PatientName = instance.PatientName
    identifier.PatientID = instance.PatientID
    identifier.ContentTemplateSequence = query.ContentTemplateSequence
    return identifier

# Implement the evt.EVT_C_FIND handler
def handle_find(event):
    """Handle a C-FIND service request"""
    ds = event.identifier

    # Import stored SOP Instances
    instances = []
    fdir = DIRECTORY  # changed from the seed: was '/path/to/directory'
    for fpath in os.listdir(fdir):
       instances.append(dcmread(os.path.join(fdir, fpath)))

    # Not a good example of how to match
    matching = [
        inst for inst in instances if inst.PatientID == ds.PatientID
    ]

    # There must either be no match or 1 match, everything else
    #   is a failure
    if len(matching) == 1:
        # User-defined function to create the identifier based off a
        #   template, outside the scope of the current example
        identifier = create_template(matching[0], ds)
        yield (0xFF00, identifier)
    elif len(matching) > 1:
        # More than 1 match found
        yield (0xC100, None)

handlers = [(evt.EVT_C_FIND, handle_find)]

# Initialise the Application Entity and specify the listen port
ae = AE()

# Add the supported presentation context
ae.add_supported_context(GeneralRelevantPatientInformationQuery)

# Start listening for incoming association requests
ae.start_server(("127.0.0.1", PORT), evt_handlers=handlers)  # changed from the seed: port was 11112
