"""Relevant Patient Information Query SCU: one patient, template TID 9007 (seed 002).

Usage: python relevant_patient_scu.py [PORT]
The seed's code with its imports changed from pynetdicom to dicomwire; the
other changes are marked "changed from the seed".
"""
import sys  # changed from the seed: port from the command line

from pydicom.dataset import Dataset

from dicomwire import AE, debug_logger
from dicomwire.sop_class import GeneralRelevantPatientInformationQuery

# changed from the seed: the seed hard-codes port 11112; it is the default
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 11112

debug_logger()

# Initialise the Application Entity
ae = AE()

# Add a requested presentation context
ae.add_requested_context(GeneralRelevantPatientInformationQuery)

# Create our Identifier (query) dataset
ds = Dataset()
ds.PatientName = ''
ds.PatientID = '1234567'
ds.ContentTemplateSequence = [Dataset()]
# Request the General Relevant Patient Information template (TID 9007)
# See DICOM Standard, Part 16, Annex A, TID 9000-9007
ds.ContentTemplateSequence[0].MappingResource = 'DCMR'
ds.ContentTemplateSequence[0].TemplateIdentifier = '9007'

# Associate with peer AE at IP 127.0.0.1 and port 11112
assoc = ae.associate("127.0.0.1", PORT)  # changed from the seed: port was 11112

if assoc.is_established:
    # Use the C-FIND service to send the identifier
    responses = assoc.send_c_find(ds, GeneralRelevantPatientInformationQuery)
    for (status, identifier) in responses:
        if status:
            print(f"C-FIND query status: 0x{status.Status:04x}")
        else:
            print('Connection timed out, was aborted or received invalid response')

    # Release the association
    assoc.release()
else:
    print('Association rejected, aborted or never connected')
