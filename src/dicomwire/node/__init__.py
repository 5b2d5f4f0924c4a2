"""The DICOM node behind ``dicomwire serve``: index, file store, handlers, configuration.

The index (:mod:`dicomwire.node.index`) keeps patients, studies, series,
instances and worklist items in SQLite or PostgreSQL and answers Query/Retrieve,
Modality Worklist and Relevant Patient Information lookups (PS3.4 C, K, Q).
"""
