"""SOP Class UIDs of the DICOM standard and the service classes they belong to.

GENERATED FILE -- do not edit by hand. It is written by ``tools/gen_sop_class.py``
from pydicom's UID dictionary (PS3.6 Table A-1) and checked by
``tests/test_sop_class.py``. To regenerate after a pydicom upgrade::

    python tools/gen_sop_class.py

Every SOP Class of the standard, current and retired, is a ``pydicom.uid.UID``
constant named by pydicom's keyword, plus the current Meta SOP Classes and
well-known SOP Instances. Where pynetdicom spells a name differently, that
spelling is exported too (see the aliases section), so code written against
``pynetdicom.sop_class`` runs with only its import changed.

The groupings follow the service classes of PS3.4; ``uid_to_service_class``
names the service class of a UID.
"""

from __future__ import annotations

from pydicom.uid import UID

# -------------------- SOP Classes (PS3.6 Table A-1), in UID order

Verification = UID("1.2.840.10008.1.1")
MediaStorageDirectoryStorage = UID("1.2.840.10008.1.3.10")
BasicStudyContentNotification = UID("1.2.840.10008.1.9")  # retired
StorageCommitmentPushModel = UID("1.2.840.10008.1.20.1")
StorageCommitmentPushModelInstance = UID("1.2.840.10008.1.20.1.1")
StorageCommitmentPullModel = UID("1.2.840.10008.1.20.2")  # retired
ProceduralEventLogging = UID("1.2.840.10008.1.40")
ProceduralEventLoggingInstance = UID("1.2.840.10008.1.40.1")
SubstanceAdministrationLogging = UID("1.2.840.10008.1.42")
SubstanceAdministrationLoggingInstance = UID("1.2.840.10008.1.42.1")
DetachedPatientManagement = UID("1.2.840.10008.3.1.2.1.1")  # retired
DetachedVisitManagement = UID("1.2.840.10008.3.1.2.2.1")  # retired
DetachedStudyManagement = UID("1.2.840.10008.3.1.2.3.1")  # retired
StudyComponentManagement = UID("1.2.840.10008.3.1.2.3.2")  # retired
ModalityPerformedProcedureStep = UID("1.2.840.10008.3.1.2.3.3")
ModalityPerformedProcedureStepRetrieve = UID("1.2.840.10008.3.1.2.3.4")
ModalityPerformedProcedureStepNotification = UID("1.2.840.10008.3.1.2.3.5")
DetachedResultsManagement = UID("1.2.840.10008.3.1.2.5.1")  # retired
DetachedInterpretationManagement = UID("1.2.840.10008.3.1.2.6.1")  # retired
BasicFilmSession = UID("1.2.840.10008.5.1.1.1")
BasicFilmBox = UID("1.2.840.10008.5.1.1.2")
BasicGrayscaleImageBox = UID("1.2.840.10008.5.1.1.4")
BasicColorImageBox = UID("1.2.840.10008.5.1.1.4.1")
ReferencedImageBox = UID("1.2.840.10008.5.1.1.4.2")  # retired
BasicGrayscalePrintManagementMeta = UID("1.2.840.10008.5.1.1.9")
PrintJob = UID("1.2.840.10008.5.1.1.14")
BasicAnnotationBox = UID("1.2.840.10008.5.1.1.15")
Printer = UID("1.2.840.10008.5.1.1.16")
PrinterConfigurationRetrieval = UID("1.2.840.10008.5.1.1.16.376")
PrinterInstance = UID("1.2.840.10008.5.1.1.17")
PrinterConfigurationRetrievalInstance = UID("1.2.840.10008.5.1.1.17.376")
BasicColorPrintManagementMeta = UID("1.2.840.10008.5.1.1.18")
VOILUTBox = UID("1.2.840.10008.5.1.1.22")
PresentationLUT = UID("1.2.840.10008.5.1.1.23")
ImageOverlayBox = UID("1.2.840.10008.5.1.1.24")  # retired
BasicPrintImageOverlayBox = UID("1.2.840.10008.5.1.1.24.1")  # retired
PrintQueueManagement = UID("1.2.840.10008.5.1.1.26")  # retired
StoredPrintStorage = UID("1.2.840.10008.5.1.1.27")  # retired
HardcopyGrayscaleImageStorage = UID("1.2.840.10008.5.1.1.29")  # retired
HardcopyColorImageStorage = UID("1.2.840.10008.5.1.1.30")  # retired
PullPrintRequest = UID("1.2.840.10008.5.1.1.31")  # retired
MediaCreationManagement = UID("1.2.840.10008.5.1.1.33")
DisplaySystem = UID("1.2.840.10008.5.1.1.40")
DisplaySystemInstance = UID("1.2.840.10008.5.1.1.40.1")
ComputedRadiographyImageStorage = UID("1.2.840.10008.5.1.4.1.1.1")
DigitalXRayImageStorageForPresentation = UID("1.2.840.10008.5.1.4.1.1.1.1")
DigitalXRayImageStorageForProcessing = UID("1.2.840.10008.5.1.4.1.1.1.1.1")
DigitalMammographyXRayImageStorageForPresentation = UID("1.2.840.10008.5.1.4.1.1.1.2")
DigitalMammographyXRayImageStorageForProcessing = UID("1.2.840.10008.5.1.4.1.1.1.2.1")
DigitalIntraOralXRayImageStorageForPresentation = UID("1.2.840.10008.5.1.4.1.1.1.3")
DigitalIntraOralXRayImageStorageForProcessing = UID("1.2.840.10008.5.1.4.1.1.1.3.1")
CTImageStorage = UID("1.2.840.10008.5.1.4.1.1.2")
EnhancedCTImageStorage = UID("1.2.840.10008.5.1.4.1.1.2.1")
LegacyConvertedEnhancedCTImageStorage = UID("1.2.840.10008.5.1.4.1.1.2.2")
UltrasoundMultiFrameImageStorageRetired = UID("1.2.840.10008.5.1.4.1.1.3")  # retired
UltrasoundMultiFrameImageStorage = UID("1.2.840.10008.5.1.4.1.1.3.1")
MRImageStorage = UID("1.2.840.10008.5.1.4.1.1.4")
EnhancedMRImageStorage = UID("1.2.840.10008.5.1.4.1.1.4.1")
MRSpectroscopyStorage = UID("1.2.840.10008.5.1.4.1.1.4.2")
EnhancedMRColorImageStorage = UID("1.2.840.10008.5.1.4.1.1.4.3")
LegacyConvertedEnhancedMRImageStorage = UID("1.2.840.10008.5.1.4.1.1.4.4")
NuclearMedicineImageStorageRetired = UID("1.2.840.10008.5.1.4.1.1.5")  # retired
UltrasoundImageStorageRetired = UID("1.2.840.10008.5.1.4.1.1.6")  # retired
UltrasoundImageStorage = UID("1.2.840.10008.5.1.4.1.1.6.1")
EnhancedUSVolumeStorage = UID("1.2.840.10008.5.1.4.1.1.6.2")
PhotoacousticImageStorage = UID("1.2.840.10008.5.1.4.1.1.6.3")
SecondaryCaptureImageStorage = UID("1.2.840.10008.5.1.4.1.1.7")
MultiFrameSingleBitSecondaryCaptureImageStorage = UID("1.2.840.10008.5.1.4.1.1.7.1")
MultiFrameGrayscaleByteSecondaryCaptureImageStorage = UID("1.2.840.10008.5.1.4.1.1.7.2")
MultiFrameGrayscaleWordSecondaryCaptureImageStorage = UID("1.2.840.10008.5.1.4.1.1.7.3")
MultiFrameTrueColorSecondaryCaptureImageStorage = UID("1.2.840.10008.5.1.4.1.1.7.4")
StandaloneOverlayStorage = UID("1.2.840.10008.5.1.4.1.1.8")  # retired
StandaloneCurveStorage = UID("1.2.840.10008.5.1.4.1.1.9")  # retired
WaveformStorageTrial = UID("1.2.840.10008.5.1.4.1.1.9.1")  # retired
TwelveLeadECGWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.1.1")
GeneralECGWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.1.2")
AmbulatoryECGWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.1.3")
General32bitECGWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.1.4")
HemodynamicWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.2.1")
CardiacElectrophysiologyWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.3.1")
BasicVoiceAudioWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.4.1")
GeneralAudioWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.4.2")
ArterialPulseWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.5.1")
RespiratoryWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.6.1")
MultichannelRespiratoryWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.6.2")
RoutineScalpElectroencephalogramWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.7.1")
ElectromyogramWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.7.2")
ElectrooculogramWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.7.3")
SleepElectroencephalogramWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.7.4")
BodyPositionWaveformStorage = UID("1.2.840.10008.5.1.4.1.1.9.8.1")
WaveformPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.9.100.1")
WaveformAcquisitionPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.9.100.2")
StandaloneModalityLUTStorage = UID("1.2.840.10008.5.1.4.1.1.10")  # retired
StandaloneVOILUTStorage = UID("1.2.840.10008.5.1.4.1.1.11")  # retired
GrayscaleSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.1")
ColorSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.2")
PseudoColorSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.3")
BlendingSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.4")
XAXRFGrayscaleSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.5")
GrayscalePlanarMPRVolumetricPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.6")
CompositingPlanarMPRVolumetricPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.7")
AdvancedBlendingPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.8")
VolumeRenderingVolumetricPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.9")
SegmentedVolumeRenderingVolumetricPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.10")
MultipleVolumeRenderingVolumetricPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.11")
VariableModalityLUTSoftcopyPresentationStateStorage = UID("1.2.840.10008.5.1.4.1.1.11.12")
XRayAngiographicImageStorage = UID("1.2.840.10008.5.1.4.1.1.12.1")
EnhancedXAImageStorage = UID("1.2.840.10008.5.1.4.1.1.12.1.1")
XRayRadiofluoroscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.12.2")
EnhancedXRFImageStorage = UID("1.2.840.10008.5.1.4.1.1.12.2.1")
XRayAngiographicBiPlaneImageStorage = UID("1.2.840.10008.5.1.4.1.1.12.3")  # retired
XRay3DAngiographicImageStorage = UID("1.2.840.10008.5.1.4.1.1.13.1.1")
XRay3DCraniofacialImageStorage = UID("1.2.840.10008.5.1.4.1.1.13.1.2")
BreastTomosynthesisImageStorage = UID("1.2.840.10008.5.1.4.1.1.13.1.3")
BreastProjectionXRayImageStorageForPresentation = UID("1.2.840.10008.5.1.4.1.1.13.1.4")
BreastProjectionXRayImageStorageForProcessing = UID("1.2.840.10008.5.1.4.1.1.13.1.5")
IntravascularOpticalCoherenceTomographyImageStorageForPresentation = UID(
    "1.2.840.10008.5.1.4.1.1.14.1"
)
IntravascularOpticalCoherenceTomographyImageStorageForProcessing = UID(
    "1.2.840.10008.5.1.4.1.1.14.2"
)
NuclearMedicineImageStorage = UID("1.2.840.10008.5.1.4.1.1.20")
ParametricMapStorage = UID("1.2.840.10008.5.1.4.1.1.30")
RawDataStorage = UID("1.2.840.10008.5.1.4.1.1.66")
SpatialRegistrationStorage = UID("1.2.840.10008.5.1.4.1.1.66.1")
SpatialFiducialsStorage = UID("1.2.840.10008.5.1.4.1.1.66.2")
DeformableSpatialRegistrationStorage = UID("1.2.840.10008.5.1.4.1.1.66.3")
SegmentationStorage = UID("1.2.840.10008.5.1.4.1.1.66.4")
SurfaceSegmentationStorage = UID("1.2.840.10008.5.1.4.1.1.66.5")
TractographyResultsStorage = UID("1.2.840.10008.5.1.4.1.1.66.6")
LabelMapSegmentationStorage = UID("1.2.840.10008.5.1.4.1.1.66.7")
HeightMapSegmentationStorage = UID("1.2.840.10008.5.1.4.1.1.66.8")
RealWorldValueMappingStorage = UID("1.2.840.10008.5.1.4.1.1.67")
SurfaceScanMeshStorage = UID("1.2.840.10008.5.1.4.1.1.68.1")
SurfaceScanPointCloudStorage = UID("1.2.840.10008.5.1.4.1.1.68.2")
VLImageStorageTrial = UID("1.2.840.10008.5.1.4.1.1.77.1")  # retired
VLEndoscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.1")
VideoEndoscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.1.1")
VLMicroscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.2")
VideoMicroscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.2.1")
VLSlideCoordinatesMicroscopicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.3")
VLPhotographicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.4")
VideoPhotographicImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.4.1")
OphthalmicPhotography8BitImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.1")
OphthalmicPhotography16BitImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.2")
StereometricRelationshipStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.3")
OphthalmicTomographyImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.4")
WideFieldOphthalmicPhotographyStereographicProjectionImageStorage = UID(
    "1.2.840.10008.5.1.4.1.1.77.1.5.5"
)
WideFieldOphthalmicPhotography3DCoordinatesImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.6")
OphthalmicOpticalCoherenceTomographyEnFaceImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.5.7")
OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage = UID(
    "1.2.840.10008.5.1.4.1.1.77.1.5.8"
)
VLWholeSlideMicroscopyImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.6")
DermoscopicPhotographyImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.7")
ConfocalMicroscopyImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.8")
ConfocalMicroscopyTiledPyramidalImageStorage = UID("1.2.840.10008.5.1.4.1.1.77.1.9")
VLMultiFrameImageStorageTrial = UID("1.2.840.10008.5.1.4.1.1.77.2")  # retired
LensometryMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.1")
AutorefractionMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.2")
KeratometryMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.3")
SubjectiveRefractionMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.4")
VisualAcuityMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.5")
SpectaclePrescriptionReportStorage = UID("1.2.840.10008.5.1.4.1.1.78.6")
OphthalmicAxialMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.78.7")
IntraocularLensCalculationsStorage = UID("1.2.840.10008.5.1.4.1.1.78.8")
MacularGridThicknessAndVolumeReportStorage = UID("1.2.840.10008.5.1.4.1.1.79.1")
OphthalmicVisualFieldStaticPerimetryMeasurementsStorage = UID("1.2.840.10008.5.1.4.1.1.80.1")
OphthalmicThicknessMapStorage = UID("1.2.840.10008.5.1.4.1.1.81.1")
CornealTopographyMapStorage = UID("1.2.840.10008.5.1.4.1.1.82.1")
TextSRStorageTrial = UID("1.2.840.10008.5.1.4.1.1.88.1")  # retired
AudioSRStorageTrial = UID("1.2.840.10008.5.1.4.1.1.88.2")  # retired
DetailSRStorageTrial = UID("1.2.840.10008.5.1.4.1.1.88.3")  # retired
ComprehensiveSRStorageTrial = UID("1.2.840.10008.5.1.4.1.1.88.4")  # retired
BasicTextSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.11")
EnhancedSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.22")
ComprehensiveSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.33")
Comprehensive3DSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.34")
ExtensibleSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.35")
ProcedureLogStorage = UID("1.2.840.10008.5.1.4.1.1.88.40")
MammographyCADSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.50")
KeyObjectSelectionDocumentStorage = UID("1.2.840.10008.5.1.4.1.1.88.59")
ChestCADSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.65")
XRayRadiationDoseSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.67")
RadiopharmaceuticalRadiationDoseSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.68")
ColonCADSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.69")
ImplantationPlanSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.70")
AcquisitionContextSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.71")
SimplifiedAdultEchoSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.72")
PatientRadiationDoseSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.73")
PlannedImagingAgentAdministrationSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.74")
PerformedImagingAgentAdministrationSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.75")
EnhancedXRayRadiationDoseSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.76")
WaveformAnnotationSRStorage = UID("1.2.840.10008.5.1.4.1.1.88.77")
ContentAssessmentResultsStorage = UID("1.2.840.10008.5.1.4.1.1.90.1")
MicroscopyBulkSimpleAnnotationsStorage = UID("1.2.840.10008.5.1.4.1.1.91.1")
EncapsulatedPDFStorage = UID("1.2.840.10008.5.1.4.1.1.104.1")
EncapsulatedCDAStorage = UID("1.2.840.10008.5.1.4.1.1.104.2")
EncapsulatedSTLStorage = UID("1.2.840.10008.5.1.4.1.1.104.3")
EncapsulatedOBJStorage = UID("1.2.840.10008.5.1.4.1.1.104.4")
EncapsulatedMTLStorage = UID("1.2.840.10008.5.1.4.1.1.104.5")
PositronEmissionTomographyImageStorage = UID("1.2.840.10008.5.1.4.1.1.128")
LegacyConvertedEnhancedPETImageStorage = UID("1.2.840.10008.5.1.4.1.1.128.1")
StandalonePETCurveStorage = UID("1.2.840.10008.5.1.4.1.1.129")  # retired
EnhancedPETImageStorage = UID("1.2.840.10008.5.1.4.1.1.130")
BasicStructuredDisplayStorage = UID("1.2.840.10008.5.1.4.1.1.131")
CTDefinedProcedureProtocolStorage = UID("1.2.840.10008.5.1.4.1.1.200.1")
CTPerformedProcedureProtocolStorage = UID("1.2.840.10008.5.1.4.1.1.200.2")
ProtocolApprovalStorage = UID("1.2.840.10008.5.1.4.1.1.200.3")
ProtocolApprovalInformationModelFind = UID("1.2.840.10008.5.1.4.1.1.200.4")
ProtocolApprovalInformationModelMove = UID("1.2.840.10008.5.1.4.1.1.200.5")
ProtocolApprovalInformationModelGet = UID("1.2.840.10008.5.1.4.1.1.200.6")
XADefinedProcedureProtocolStorage = UID("1.2.840.10008.5.1.4.1.1.200.7")
XAPerformedProcedureProtocolStorage = UID("1.2.840.10008.5.1.4.1.1.200.8")
InventoryStorage = UID("1.2.840.10008.5.1.4.1.1.201.1")
StorageManagementInstance = UID("1.2.840.10008.5.1.4.1.1.201.1.1")
InventoryFind = UID("1.2.840.10008.5.1.4.1.1.201.2")
InventoryMove = UID("1.2.840.10008.5.1.4.1.1.201.3")
InventoryGet = UID("1.2.840.10008.5.1.4.1.1.201.4")
InventoryCreation = UID("1.2.840.10008.5.1.4.1.1.201.5")
RepositoryQuery = UID("1.2.840.10008.5.1.4.1.1.201.6")
RTImageStorage = UID("1.2.840.10008.5.1.4.1.1.481.1")
RTDoseStorage = UID("1.2.840.10008.5.1.4.1.1.481.2")
RTStructureSetStorage = UID("1.2.840.10008.5.1.4.1.1.481.3")
RTBeamsTreatmentRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.4")
RTPlanStorage = UID("1.2.840.10008.5.1.4.1.1.481.5")
RTBrachyTreatmentRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.6")
RTTreatmentSummaryRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.7")
RTIonPlanStorage = UID("1.2.840.10008.5.1.4.1.1.481.8")
RTIonBeamsTreatmentRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.9")
RTPhysicianIntentStorage = UID("1.2.840.10008.5.1.4.1.1.481.10")
RTSegmentAnnotationStorage = UID("1.2.840.10008.5.1.4.1.1.481.11")
RTRadiationSetStorage = UID("1.2.840.10008.5.1.4.1.1.481.12")
CArmPhotonElectronRadiationStorage = UID("1.2.840.10008.5.1.4.1.1.481.13")
TomotherapeuticRadiationStorage = UID("1.2.840.10008.5.1.4.1.1.481.14")
RoboticArmRadiationStorage = UID("1.2.840.10008.5.1.4.1.1.481.15")
RTRadiationRecordSetStorage = UID("1.2.840.10008.5.1.4.1.1.481.16")
RTRadiationSalvageRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.17")
TomotherapeuticRadiationRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.18")
CArmPhotonElectronRadiationRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.19")
RoboticRadiationRecordStorage = UID("1.2.840.10008.5.1.4.1.1.481.20")
RTRadiationSetDeliveryInstructionStorage = UID("1.2.840.10008.5.1.4.1.1.481.21")
RTTreatmentPreparationStorage = UID("1.2.840.10008.5.1.4.1.1.481.22")
EnhancedRTImageStorage = UID("1.2.840.10008.5.1.4.1.1.481.23")
EnhancedContinuousRTImageStorage = UID("1.2.840.10008.5.1.4.1.1.481.24")
RTPatientPositionAcquisitionInstructionStorage = UID("1.2.840.10008.5.1.4.1.1.481.25")
DICOSCTImageStorage = UID("1.2.840.10008.5.1.4.1.1.501.1")
DICOSDigitalXRayImageStorageForPresentation = UID("1.2.840.10008.5.1.4.1.1.501.2.1")
DICOSDigitalXRayImageStorageForProcessing = UID("1.2.840.10008.5.1.4.1.1.501.2.2")
DICOSThreatDetectionReportStorage = UID("1.2.840.10008.5.1.4.1.1.501.3")
DICOS2DAITStorage = UID("1.2.840.10008.5.1.4.1.1.501.4")
DICOS3DAITStorage = UID("1.2.840.10008.5.1.4.1.1.501.5")
DICOSQuadrupoleResonanceStorage = UID("1.2.840.10008.5.1.4.1.1.501.6")
EddyCurrentImageStorage = UID("1.2.840.10008.5.1.4.1.1.601.1")
EddyCurrentMultiFrameImageStorage = UID("1.2.840.10008.5.1.4.1.1.601.2")
PatientRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.1.1")
PatientRootQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.1.2")
PatientRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.1.3")
StudyRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.2.3")
PatientStudyOnlyQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.3.1")  # retired
PatientStudyOnlyQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.3.2")  # retired
PatientStudyOnlyQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.3.3")  # retired
CompositeInstanceRootRetrieveMove = UID("1.2.840.10008.5.1.4.1.2.4.2")
CompositeInstanceRootRetrieveGet = UID("1.2.840.10008.5.1.4.1.2.4.3")
CompositeInstanceRetrieveWithoutBulkDataGet = UID("1.2.840.10008.5.1.4.1.2.5.3")
DefinedProcedureProtocolInformationModelFind = UID("1.2.840.10008.5.1.4.20.1")
DefinedProcedureProtocolInformationModelMove = UID("1.2.840.10008.5.1.4.20.2")
DefinedProcedureProtocolInformationModelGet = UID("1.2.840.10008.5.1.4.20.3")
ModalityWorklistInformationModelFind = UID("1.2.840.10008.5.1.4.31")
GeneralPurposeWorklistInformationModelFind = UID("1.2.840.10008.5.1.4.32.1")  # retired
GeneralPurposeScheduledProcedureStep = UID("1.2.840.10008.5.1.4.32.2")  # retired
GeneralPurposePerformedProcedureStep = UID("1.2.840.10008.5.1.4.32.3")  # retired
InstanceAvailabilityNotification = UID("1.2.840.10008.5.1.4.33")
RTBeamsDeliveryInstructionStorageTrial = UID("1.2.840.10008.5.1.4.34.1")  # retired
RTConventionalMachineVerificationTrial = UID("1.2.840.10008.5.1.4.34.2")  # retired
RTIonMachineVerificationTrial = UID("1.2.840.10008.5.1.4.34.3")  # retired
UnifiedProcedureStepPushTrial = UID("1.2.840.10008.5.1.4.34.4.1")  # retired
UnifiedProcedureStepWatchTrial = UID("1.2.840.10008.5.1.4.34.4.2")  # retired
UnifiedProcedureStepPullTrial = UID("1.2.840.10008.5.1.4.34.4.3")  # retired
UnifiedProcedureStepEventTrial = UID("1.2.840.10008.5.1.4.34.4.4")  # retired
UPSGlobalSubscriptionInstance = UID("1.2.840.10008.5.1.4.34.5")
UPSFilteredGlobalSubscriptionInstance = UID("1.2.840.10008.5.1.4.34.5.1")
UnifiedProcedureStepPush = UID("1.2.840.10008.5.1.4.34.6.1")
UnifiedProcedureStepWatch = UID("1.2.840.10008.5.1.4.34.6.2")
UnifiedProcedureStepPull = UID("1.2.840.10008.5.1.4.34.6.3")
UnifiedProcedureStepEvent = UID("1.2.840.10008.5.1.4.34.6.4")
UnifiedProcedureStepQuery = UID("1.2.840.10008.5.1.4.34.6.5")
RTBeamsDeliveryInstructionStorage = UID("1.2.840.10008.5.1.4.34.7")
RTConventionalMachineVerification = UID("1.2.840.10008.5.1.4.34.8")
RTIonMachineVerification = UID("1.2.840.10008.5.1.4.34.9")
RTBrachyApplicationSetupDeliveryInstructionStorage = UID("1.2.840.10008.5.1.4.34.10")
GeneralRelevantPatientInformationQuery = UID("1.2.840.10008.5.1.4.37.1")
BreastImagingRelevantPatientInformationQuery = UID("1.2.840.10008.5.1.4.37.2")
CardiacRelevantPatientInformationQuery = UID("1.2.840.10008.5.1.4.37.3")
HangingProtocolStorage = UID("1.2.840.10008.5.1.4.38.1")
HangingProtocolInformationModelFind = UID("1.2.840.10008.5.1.4.38.2")
HangingProtocolInformationModelMove = UID("1.2.840.10008.5.1.4.38.3")
HangingProtocolInformationModelGet = UID("1.2.840.10008.5.1.4.38.4")
ColorPaletteStorage = UID("1.2.840.10008.5.1.4.39.1")
ColorPaletteQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.39.2")
ColorPaletteQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.39.3")
ColorPaletteQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.39.4")
ProductCharacteristicsQuery = UID("1.2.840.10008.5.1.4.41")
SubstanceApprovalQuery = UID("1.2.840.10008.5.1.4.42")
GenericImplantTemplateStorage = UID("1.2.840.10008.5.1.4.43.1")
GenericImplantTemplateInformationModelFind = UID("1.2.840.10008.5.1.4.43.2")
GenericImplantTemplateInformationModelMove = UID("1.2.840.10008.5.1.4.43.3")
GenericImplantTemplateInformationModelGet = UID("1.2.840.10008.5.1.4.43.4")
ImplantAssemblyTemplateStorage = UID("1.2.840.10008.5.1.4.44.1")
ImplantAssemblyTemplateInformationModelFind = UID("1.2.840.10008.5.1.4.44.2")
ImplantAssemblyTemplateInformationModelMove = UID("1.2.840.10008.5.1.4.44.3")
ImplantAssemblyTemplateInformationModelGet = UID("1.2.840.10008.5.1.4.44.4")
ImplantTemplateGroupStorage = UID("1.2.840.10008.5.1.4.45.1")
ImplantTemplateGroupInformationModelFind = UID("1.2.840.10008.5.1.4.45.2")
ImplantTemplateGroupInformationModelMove = UID("1.2.840.10008.5.1.4.45.3")
ImplantTemplateGroupInformationModelGet = UID("1.2.840.10008.5.1.4.45.4")
VideoEndoscopicImageRealTimeCommunication = UID("1.2.840.10008.10.1")
VideoPhotographicImageRealTimeCommunication = UID("1.2.840.10008.10.2")
AudioWaveformRealTimeCommunication = UID("1.2.840.10008.10.3")
RenditionSelectionDocumentRealTimeCommunication = UID("1.2.840.10008.10.4")


# -------------------- pynetdicom's spelling, where it differs

ColorPaletteInformationModelFind = ColorPaletteQueryRetrieveInformationModelFind
ColorPaletteInformationModelGet = ColorPaletteQueryRetrieveInformationModelGet
ColorPaletteInformationModelMove = ColorPaletteQueryRetrieveInformationModelMove
ModalityWorklistInformationFind = ModalityWorklistInformationModelFind
OphthlamicOpticalCoherenceTomographyBscanVolumeAnalysisStorage = (
    OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage
)
PseudoColorSoftcopyPresentationStageStorage = PseudoColorSoftcopyPresentationStateStorage
RTBrachyApplicationSetupDeliveryInstructionsStorage = (
    RTBrachyApplicationSetupDeliveryInstructionStorage
)
RoboticArmRadiationRecordStorage = RoboticRadiationRecordStorage
VariableModalityLUTSoftcopyPresentationStageStorage = (
    VariableModalityLUTSoftcopyPresentationStateStorage
)


SOP_CLASS_NAMES: dict[str, str] = {
    Verification: "Verification",
    MediaStorageDirectoryStorage: "MediaStorageDirectoryStorage",
    BasicStudyContentNotification: "BasicStudyContentNotification",
    StorageCommitmentPushModel: "StorageCommitmentPushModel",
    StorageCommitmentPushModelInstance: "StorageCommitmentPushModelInstance",
    StorageCommitmentPullModel: "StorageCommitmentPullModel",
    ProceduralEventLogging: "ProceduralEventLogging",
    ProceduralEventLoggingInstance: "ProceduralEventLoggingInstance",
    SubstanceAdministrationLogging: "SubstanceAdministrationLogging",
    SubstanceAdministrationLoggingInstance: "SubstanceAdministrationLoggingInstance",
    DetachedPatientManagement: "DetachedPatientManagement",
    DetachedVisitManagement: "DetachedVisitManagement",
    DetachedStudyManagement: "DetachedStudyManagement",
    StudyComponentManagement: "StudyComponentManagement",
    ModalityPerformedProcedureStep: "ModalityPerformedProcedureStep",
    ModalityPerformedProcedureStepRetrieve: "ModalityPerformedProcedureStepRetrieve",
    ModalityPerformedProcedureStepNotification: "ModalityPerformedProcedureStepNotification",
    DetachedResultsManagement: "DetachedResultsManagement",
    DetachedInterpretationManagement: "DetachedInterpretationManagement",
    BasicFilmSession: "BasicFilmSession",
    BasicFilmBox: "BasicFilmBox",
    BasicGrayscaleImageBox: "BasicGrayscaleImageBox",
    BasicColorImageBox: "BasicColorImageBox",
    ReferencedImageBox: "ReferencedImageBox",
    BasicGrayscalePrintManagementMeta: "BasicGrayscalePrintManagementMeta",
    PrintJob: "PrintJob",
    BasicAnnotationBox: "BasicAnnotationBox",
    Printer: "Printer",
    PrinterConfigurationRetrieval: "PrinterConfigurationRetrieval",
    PrinterInstance: "PrinterInstance",
    PrinterConfigurationRetrievalInstance: "PrinterConfigurationRetrievalInstance",
    BasicColorPrintManagementMeta: "BasicColorPrintManagementMeta",
    VOILUTBox: "VOILUTBox",
    PresentationLUT: "PresentationLUT",
    ImageOverlayBox: "ImageOverlayBox",
    BasicPrintImageOverlayBox: "BasicPrintImageOverlayBox",
    PrintQueueManagement: "PrintQueueManagement",
    StoredPrintStorage: "StoredPrintStorage",
    HardcopyGrayscaleImageStorage: "HardcopyGrayscaleImageStorage",
    HardcopyColorImageStorage: "HardcopyColorImageStorage",
    PullPrintRequest: "PullPrintRequest",
    MediaCreationManagement: "MediaCreationManagement",
    DisplaySystem: "DisplaySystem",
    DisplaySystemInstance: "DisplaySystemInstance",
    ComputedRadiographyImageStorage: "ComputedRadiographyImageStorage",
    DigitalXRayImageStorageForPresentation: "DigitalXRayImageStorageForPresentation",
    DigitalXRayImageStorageForProcessing: "DigitalXRayImageStorageForProcessing",
    DigitalMammographyXRayImageStorageForPresentation: (
        "DigitalMammographyXRayImageStorageForPresentation"
    ),
    DigitalMammographyXRayImageStorageForProcessing: (
        "DigitalMammographyXRayImageStorageForProcessing"
    ),
    DigitalIntraOralXRayImageStorageForPresentation: (
        "DigitalIntraOralXRayImageStorageForPresentation"
    ),
    DigitalIntraOralXRayImageStorageForProcessing: "DigitalIntraOralXRayImageStorageForProcessing",
    CTImageStorage: "CTImageStorage",
    EnhancedCTImageStorage: "EnhancedCTImageStorage",
    LegacyConvertedEnhancedCTImageStorage: "LegacyConvertedEnhancedCTImageStorage",
    UltrasoundMultiFrameImageStorageRetired: "UltrasoundMultiFrameImageStorageRetired",
    UltrasoundMultiFrameImageStorage: "UltrasoundMultiFrameImageStorage",
    MRImageStorage: "MRImageStorage",
    EnhancedMRImageStorage: "EnhancedMRImageStorage",
    MRSpectroscopyStorage: "MRSpectroscopyStorage",
    EnhancedMRColorImageStorage: "EnhancedMRColorImageStorage",
    LegacyConvertedEnhancedMRImageStorage: "LegacyConvertedEnhancedMRImageStorage",
    NuclearMedicineImageStorageRetired: "NuclearMedicineImageStorageRetired",
    UltrasoundImageStorageRetired: "UltrasoundImageStorageRetired",
    UltrasoundImageStorage: "UltrasoundImageStorage",
    EnhancedUSVolumeStorage: "EnhancedUSVolumeStorage",
    PhotoacousticImageStorage: "PhotoacousticImageStorage",
    SecondaryCaptureImageStorage: "SecondaryCaptureImageStorage",
    MultiFrameSingleBitSecondaryCaptureImageStorage: (
        "MultiFrameSingleBitSecondaryCaptureImageStorage"
    ),
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage: (
        "MultiFrameGrayscaleByteSecondaryCaptureImageStorage"
    ),
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage: (
        "MultiFrameGrayscaleWordSecondaryCaptureImageStorage"
    ),
    MultiFrameTrueColorSecondaryCaptureImageStorage: (
        "MultiFrameTrueColorSecondaryCaptureImageStorage"
    ),
    StandaloneOverlayStorage: "StandaloneOverlayStorage",
    StandaloneCurveStorage: "StandaloneCurveStorage",
    WaveformStorageTrial: "WaveformStorageTrial",
    TwelveLeadECGWaveformStorage: "TwelveLeadECGWaveformStorage",
    GeneralECGWaveformStorage: "GeneralECGWaveformStorage",
    AmbulatoryECGWaveformStorage: "AmbulatoryECGWaveformStorage",
    General32bitECGWaveformStorage: "General32bitECGWaveformStorage",
    HemodynamicWaveformStorage: "HemodynamicWaveformStorage",
    CardiacElectrophysiologyWaveformStorage: "CardiacElectrophysiologyWaveformStorage",
    BasicVoiceAudioWaveformStorage: "BasicVoiceAudioWaveformStorage",
    GeneralAudioWaveformStorage: "GeneralAudioWaveformStorage",
    ArterialPulseWaveformStorage: "ArterialPulseWaveformStorage",
    RespiratoryWaveformStorage: "RespiratoryWaveformStorage",
    MultichannelRespiratoryWaveformStorage: "MultichannelRespiratoryWaveformStorage",
    RoutineScalpElectroencephalogramWaveformStorage: (
        "RoutineScalpElectroencephalogramWaveformStorage"
    ),
    ElectromyogramWaveformStorage: "ElectromyogramWaveformStorage",
    ElectrooculogramWaveformStorage: "ElectrooculogramWaveformStorage",
    SleepElectroencephalogramWaveformStorage: "SleepElectroencephalogramWaveformStorage",
    BodyPositionWaveformStorage: "BodyPositionWaveformStorage",
    WaveformPresentationStateStorage: "WaveformPresentationStateStorage",
    WaveformAcquisitionPresentationStateStorage: "WaveformAcquisitionPresentationStateStorage",
    StandaloneModalityLUTStorage: "StandaloneModalityLUTStorage",
    StandaloneVOILUTStorage: "StandaloneVOILUTStorage",
    GrayscaleSoftcopyPresentationStateStorage: "GrayscaleSoftcopyPresentationStateStorage",
    ColorSoftcopyPresentationStateStorage: "ColorSoftcopyPresentationStateStorage",
    PseudoColorSoftcopyPresentationStateStorage: "PseudoColorSoftcopyPresentationStateStorage",
    BlendingSoftcopyPresentationStateStorage: "BlendingSoftcopyPresentationStateStorage",
    XAXRFGrayscaleSoftcopyPresentationStateStorage: (
        "XAXRFGrayscaleSoftcopyPresentationStateStorage"
    ),
    GrayscalePlanarMPRVolumetricPresentationStateStorage: (
        "GrayscalePlanarMPRVolumetricPresentationStateStorage"
    ),
    CompositingPlanarMPRVolumetricPresentationStateStorage: (
        "CompositingPlanarMPRVolumetricPresentationStateStorage"
    ),
    AdvancedBlendingPresentationStateStorage: "AdvancedBlendingPresentationStateStorage",
    VolumeRenderingVolumetricPresentationStateStorage: (
        "VolumeRenderingVolumetricPresentationStateStorage"
    ),
    SegmentedVolumeRenderingVolumetricPresentationStateStorage: (
        "SegmentedVolumeRenderingVolumetricPresentationStateStorage"
    ),
    MultipleVolumeRenderingVolumetricPresentationStateStorage: (
        "MultipleVolumeRenderingVolumetricPresentationStateStorage"
    ),
    VariableModalityLUTSoftcopyPresentationStateStorage: (
        "VariableModalityLUTSoftcopyPresentationStateStorage"
    ),
    XRayAngiographicImageStorage: "XRayAngiographicImageStorage",
    EnhancedXAImageStorage: "EnhancedXAImageStorage",
    XRayRadiofluoroscopicImageStorage: "XRayRadiofluoroscopicImageStorage",
    EnhancedXRFImageStorage: "EnhancedXRFImageStorage",
    XRayAngiographicBiPlaneImageStorage: "XRayAngiographicBiPlaneImageStorage",
    XRay3DAngiographicImageStorage: "XRay3DAngiographicImageStorage",
    XRay3DCraniofacialImageStorage: "XRay3DCraniofacialImageStorage",
    BreastTomosynthesisImageStorage: "BreastTomosynthesisImageStorage",
    BreastProjectionXRayImageStorageForPresentation: (
        "BreastProjectionXRayImageStorageForPresentation"
    ),
    BreastProjectionXRayImageStorageForProcessing: "BreastProjectionXRayImageStorageForProcessing",
    IntravascularOpticalCoherenceTomographyImageStorageForPresentation: (
        "IntravascularOpticalCoherenceTomographyImageStorageForPresentation"
    ),
    IntravascularOpticalCoherenceTomographyImageStorageForProcessing: (
        "IntravascularOpticalCoherenceTomographyImageStorageForProcessing"
    ),
    NuclearMedicineImageStorage: "NuclearMedicineImageStorage",
    ParametricMapStorage: "ParametricMapStorage",
    RawDataStorage: "RawDataStorage",
    SpatialRegistrationStorage: "SpatialRegistrationStorage",
    SpatialFiducialsStorage: "SpatialFiducialsStorage",
    DeformableSpatialRegistrationStorage: "DeformableSpatialRegistrationStorage",
    SegmentationStorage: "SegmentationStorage",
    SurfaceSegmentationStorage: "SurfaceSegmentationStorage",
    TractographyResultsStorage: "TractographyResultsStorage",
    LabelMapSegmentationStorage: "LabelMapSegmentationStorage",
    HeightMapSegmentationStorage: "HeightMapSegmentationStorage",
    RealWorldValueMappingStorage: "RealWorldValueMappingStorage",
    SurfaceScanMeshStorage: "SurfaceScanMeshStorage",
    SurfaceScanPointCloudStorage: "SurfaceScanPointCloudStorage",
    VLImageStorageTrial: "VLImageStorageTrial",
    VLEndoscopicImageStorage: "VLEndoscopicImageStorage",
    VideoEndoscopicImageStorage: "VideoEndoscopicImageStorage",
    VLMicroscopicImageStorage: "VLMicroscopicImageStorage",
    VideoMicroscopicImageStorage: "VideoMicroscopicImageStorage",
    VLSlideCoordinatesMicroscopicImageStorage: "VLSlideCoordinatesMicroscopicImageStorage",
    VLPhotographicImageStorage: "VLPhotographicImageStorage",
    VideoPhotographicImageStorage: "VideoPhotographicImageStorage",
    OphthalmicPhotography8BitImageStorage: "OphthalmicPhotography8BitImageStorage",
    OphthalmicPhotography16BitImageStorage: "OphthalmicPhotography16BitImageStorage",
    StereometricRelationshipStorage: "StereometricRelationshipStorage",
    OphthalmicTomographyImageStorage: "OphthalmicTomographyImageStorage",
    WideFieldOphthalmicPhotographyStereographicProjectionImageStorage: (
        "WideFieldOphthalmicPhotographyStereographicProjectionImageStorage"
    ),
    WideFieldOphthalmicPhotography3DCoordinatesImageStorage: (
        "WideFieldOphthalmicPhotography3DCoordinatesImageStorage"
    ),
    OphthalmicOpticalCoherenceTomographyEnFaceImageStorage: (
        "OphthalmicOpticalCoherenceTomographyEnFaceImageStorage"
    ),
    OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage: (
        "OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage"
    ),
    VLWholeSlideMicroscopyImageStorage: "VLWholeSlideMicroscopyImageStorage",
    DermoscopicPhotographyImageStorage: "DermoscopicPhotographyImageStorage",
    ConfocalMicroscopyImageStorage: "ConfocalMicroscopyImageStorage",
    ConfocalMicroscopyTiledPyramidalImageStorage: "ConfocalMicroscopyTiledPyramidalImageStorage",
    VLMultiFrameImageStorageTrial: "VLMultiFrameImageStorageTrial",
    LensometryMeasurementsStorage: "LensometryMeasurementsStorage",
    AutorefractionMeasurementsStorage: "AutorefractionMeasurementsStorage",
    KeratometryMeasurementsStorage: "KeratometryMeasurementsStorage",
    SubjectiveRefractionMeasurementsStorage: "SubjectiveRefractionMeasurementsStorage",
    VisualAcuityMeasurementsStorage: "VisualAcuityMeasurementsStorage",
    SpectaclePrescriptionReportStorage: "SpectaclePrescriptionReportStorage",
    OphthalmicAxialMeasurementsStorage: "OphthalmicAxialMeasurementsStorage",
    IntraocularLensCalculationsStorage: "IntraocularLensCalculationsStorage",
    MacularGridThicknessAndVolumeReportStorage: "MacularGridThicknessAndVolumeReportStorage",
    OphthalmicVisualFieldStaticPerimetryMeasurementsStorage: (
        "OphthalmicVisualFieldStaticPerimetryMeasurementsStorage"
    ),
    OphthalmicThicknessMapStorage: "OphthalmicThicknessMapStorage",
    CornealTopographyMapStorage: "CornealTopographyMapStorage",
    TextSRStorageTrial: "TextSRStorageTrial",
    AudioSRStorageTrial: "AudioSRStorageTrial",
    DetailSRStorageTrial: "DetailSRStorageTrial",
    ComprehensiveSRStorageTrial: "ComprehensiveSRStorageTrial",
    BasicTextSRStorage: "BasicTextSRStorage",
    EnhancedSRStorage: "EnhancedSRStorage",
    ComprehensiveSRStorage: "ComprehensiveSRStorage",
    Comprehensive3DSRStorage: "Comprehensive3DSRStorage",
    ExtensibleSRStorage: "ExtensibleSRStorage",
    ProcedureLogStorage: "ProcedureLogStorage",
    MammographyCADSRStorage: "MammographyCADSRStorage",
    KeyObjectSelectionDocumentStorage: "KeyObjectSelectionDocumentStorage",
    ChestCADSRStorage: "ChestCADSRStorage",
    XRayRadiationDoseSRStorage: "XRayRadiationDoseSRStorage",
    RadiopharmaceuticalRadiationDoseSRStorage: "RadiopharmaceuticalRadiationDoseSRStorage",
    ColonCADSRStorage: "ColonCADSRStorage",
    ImplantationPlanSRStorage: "ImplantationPlanSRStorage",
    AcquisitionContextSRStorage: "AcquisitionContextSRStorage",
    SimplifiedAdultEchoSRStorage: "SimplifiedAdultEchoSRStorage",
    PatientRadiationDoseSRStorage: "PatientRadiationDoseSRStorage",
    PlannedImagingAgentAdministrationSRStorage: "PlannedImagingAgentAdministrationSRStorage",
    PerformedImagingAgentAdministrationSRStorage: "PerformedImagingAgentAdministrationSRStorage",
    EnhancedXRayRadiationDoseSRStorage: "EnhancedXRayRadiationDoseSRStorage",
    WaveformAnnotationSRStorage: "WaveformAnnotationSRStorage",
    ContentAssessmentResultsStorage: "ContentAssessmentResultsStorage",
    MicroscopyBulkSimpleAnnotationsStorage: "MicroscopyBulkSimpleAnnotationsStorage",
    EncapsulatedPDFStorage: "EncapsulatedPDFStorage",
    EncapsulatedCDAStorage: "EncapsulatedCDAStorage",
    EncapsulatedSTLStorage: "EncapsulatedSTLStorage",
    EncapsulatedOBJStorage: "EncapsulatedOBJStorage",
    EncapsulatedMTLStorage: "EncapsulatedMTLStorage",
    PositronEmissionTomographyImageStorage: "PositronEmissionTomographyImageStorage",
    LegacyConvertedEnhancedPETImageStorage: "LegacyConvertedEnhancedPETImageStorage",
    StandalonePETCurveStorage: "StandalonePETCurveStorage",
    EnhancedPETImageStorage: "EnhancedPETImageStorage",
    BasicStructuredDisplayStorage: "BasicStructuredDisplayStorage",
    CTDefinedProcedureProtocolStorage: "CTDefinedProcedureProtocolStorage",
    CTPerformedProcedureProtocolStorage: "CTPerformedProcedureProtocolStorage",
    ProtocolApprovalStorage: "ProtocolApprovalStorage",
    ProtocolApprovalInformationModelFind: "ProtocolApprovalInformationModelFind",
    ProtocolApprovalInformationModelMove: "ProtocolApprovalInformationModelMove",
    ProtocolApprovalInformationModelGet: "ProtocolApprovalInformationModelGet",
    XADefinedProcedureProtocolStorage: "XADefinedProcedureProtocolStorage",
    XAPerformedProcedureProtocolStorage: "XAPerformedProcedureProtocolStorage",
    InventoryStorage: "InventoryStorage",
    StorageManagementInstance: "StorageManagementInstance",
    InventoryFind: "InventoryFind",
    InventoryMove: "InventoryMove",
    InventoryGet: "InventoryGet",
    InventoryCreation: "InventoryCreation",
    RepositoryQuery: "RepositoryQuery",
    RTImageStorage: "RTImageStorage",
    RTDoseStorage: "RTDoseStorage",
    RTStructureSetStorage: "RTStructureSetStorage",
    RTBeamsTreatmentRecordStorage: "RTBeamsTreatmentRecordStorage",
    RTPlanStorage: "RTPlanStorage",
    RTBrachyTreatmentRecordStorage: "RTBrachyTreatmentRecordStorage",
    RTTreatmentSummaryRecordStorage: "RTTreatmentSummaryRecordStorage",
    RTIonPlanStorage: "RTIonPlanStorage",
    RTIonBeamsTreatmentRecordStorage: "RTIonBeamsTreatmentRecordStorage",
    RTPhysicianIntentStorage: "RTPhysicianIntentStorage",
    RTSegmentAnnotationStorage: "RTSegmentAnnotationStorage",
    RTRadiationSetStorage: "RTRadiationSetStorage",
    CArmPhotonElectronRadiationStorage: "CArmPhotonElectronRadiationStorage",
    TomotherapeuticRadiationStorage: "TomotherapeuticRadiationStorage",
    RoboticArmRadiationStorage: "RoboticArmRadiationStorage",
    RTRadiationRecordSetStorage: "RTRadiationRecordSetStorage",
    RTRadiationSalvageRecordStorage: "RTRadiationSalvageRecordStorage",
    TomotherapeuticRadiationRecordStorage: "TomotherapeuticRadiationRecordStorage",
    CArmPhotonElectronRadiationRecordStorage: "CArmPhotonElectronRadiationRecordStorage",
    RoboticRadiationRecordStorage: "RoboticRadiationRecordStorage",
    RTRadiationSetDeliveryInstructionStorage: "RTRadiationSetDeliveryInstructionStorage",
    RTTreatmentPreparationStorage: "RTTreatmentPreparationStorage",
    EnhancedRTImageStorage: "EnhancedRTImageStorage",
    EnhancedContinuousRTImageStorage: "EnhancedContinuousRTImageStorage",
    RTPatientPositionAcquisitionInstructionStorage: (
        "RTPatientPositionAcquisitionInstructionStorage"
    ),
    DICOSCTImageStorage: "DICOSCTImageStorage",
    DICOSDigitalXRayImageStorageForPresentation: "DICOSDigitalXRayImageStorageForPresentation",
    DICOSDigitalXRayImageStorageForProcessing: "DICOSDigitalXRayImageStorageForProcessing",
    DICOSThreatDetectionReportStorage: "DICOSThreatDetectionReportStorage",
    DICOS2DAITStorage: "DICOS2DAITStorage",
    DICOS3DAITStorage: "DICOS3DAITStorage",
    DICOSQuadrupoleResonanceStorage: "DICOSQuadrupoleResonanceStorage",
    EddyCurrentImageStorage: "EddyCurrentImageStorage",
    EddyCurrentMultiFrameImageStorage: "EddyCurrentMultiFrameImageStorage",
    PatientRootQueryRetrieveInformationModelFind: "PatientRootQueryRetrieveInformationModelFind",
    PatientRootQueryRetrieveInformationModelMove: "PatientRootQueryRetrieveInformationModelMove",
    PatientRootQueryRetrieveInformationModelGet: "PatientRootQueryRetrieveInformationModelGet",
    StudyRootQueryRetrieveInformationModelFind: "StudyRootQueryRetrieveInformationModelFind",
    StudyRootQueryRetrieveInformationModelMove: "StudyRootQueryRetrieveInformationModelMove",
    StudyRootQueryRetrieveInformationModelGet: "StudyRootQueryRetrieveInformationModelGet",
    PatientStudyOnlyQueryRetrieveInformationModelFind: (
        "PatientStudyOnlyQueryRetrieveInformationModelFind"
    ),
    PatientStudyOnlyQueryRetrieveInformationModelMove: (
        "PatientStudyOnlyQueryRetrieveInformationModelMove"
    ),
    PatientStudyOnlyQueryRetrieveInformationModelGet: (
        "PatientStudyOnlyQueryRetrieveInformationModelGet"
    ),
    CompositeInstanceRootRetrieveMove: "CompositeInstanceRootRetrieveMove",
    CompositeInstanceRootRetrieveGet: "CompositeInstanceRootRetrieveGet",
    CompositeInstanceRetrieveWithoutBulkDataGet: "CompositeInstanceRetrieveWithoutBulkDataGet",
    DefinedProcedureProtocolInformationModelFind: "DefinedProcedureProtocolInformationModelFind",
    DefinedProcedureProtocolInformationModelMove: "DefinedProcedureProtocolInformationModelMove",
    DefinedProcedureProtocolInformationModelGet: "DefinedProcedureProtocolInformationModelGet",
    ModalityWorklistInformationModelFind: "ModalityWorklistInformationModelFind",
    GeneralPurposeWorklistInformationModelFind: "GeneralPurposeWorklistInformationModelFind",
    GeneralPurposeScheduledProcedureStep: "GeneralPurposeScheduledProcedureStep",
    GeneralPurposePerformedProcedureStep: "GeneralPurposePerformedProcedureStep",
    InstanceAvailabilityNotification: "InstanceAvailabilityNotification",
    RTBeamsDeliveryInstructionStorageTrial: "RTBeamsDeliveryInstructionStorageTrial",
    RTConventionalMachineVerificationTrial: "RTConventionalMachineVerificationTrial",
    RTIonMachineVerificationTrial: "RTIonMachineVerificationTrial",
    UnifiedProcedureStepPushTrial: "UnifiedProcedureStepPushTrial",
    UnifiedProcedureStepWatchTrial: "UnifiedProcedureStepWatchTrial",
    UnifiedProcedureStepPullTrial: "UnifiedProcedureStepPullTrial",
    UnifiedProcedureStepEventTrial: "UnifiedProcedureStepEventTrial",
    UPSGlobalSubscriptionInstance: "UPSGlobalSubscriptionInstance",
    UPSFilteredGlobalSubscriptionInstance: "UPSFilteredGlobalSubscriptionInstance",
    UnifiedProcedureStepPush: "UnifiedProcedureStepPush",
    UnifiedProcedureStepWatch: "UnifiedProcedureStepWatch",
    UnifiedProcedureStepPull: "UnifiedProcedureStepPull",
    UnifiedProcedureStepEvent: "UnifiedProcedureStepEvent",
    UnifiedProcedureStepQuery: "UnifiedProcedureStepQuery",
    RTBeamsDeliveryInstructionStorage: "RTBeamsDeliveryInstructionStorage",
    RTConventionalMachineVerification: "RTConventionalMachineVerification",
    RTIonMachineVerification: "RTIonMachineVerification",
    RTBrachyApplicationSetupDeliveryInstructionStorage: (
        "RTBrachyApplicationSetupDeliveryInstructionStorage"
    ),
    GeneralRelevantPatientInformationQuery: "GeneralRelevantPatientInformationQuery",
    BreastImagingRelevantPatientInformationQuery: "BreastImagingRelevantPatientInformationQuery",
    CardiacRelevantPatientInformationQuery: "CardiacRelevantPatientInformationQuery",
    HangingProtocolStorage: "HangingProtocolStorage",
    HangingProtocolInformationModelFind: "HangingProtocolInformationModelFind",
    HangingProtocolInformationModelMove: "HangingProtocolInformationModelMove",
    HangingProtocolInformationModelGet: "HangingProtocolInformationModelGet",
    ColorPaletteStorage: "ColorPaletteStorage",
    ColorPaletteQueryRetrieveInformationModelFind: "ColorPaletteQueryRetrieveInformationModelFind",
    ColorPaletteQueryRetrieveInformationModelMove: "ColorPaletteQueryRetrieveInformationModelMove",
    ColorPaletteQueryRetrieveInformationModelGet: "ColorPaletteQueryRetrieveInformationModelGet",
    ProductCharacteristicsQuery: "ProductCharacteristicsQuery",
    SubstanceApprovalQuery: "SubstanceApprovalQuery",
    GenericImplantTemplateStorage: "GenericImplantTemplateStorage",
    GenericImplantTemplateInformationModelFind: "GenericImplantTemplateInformationModelFind",
    GenericImplantTemplateInformationModelMove: "GenericImplantTemplateInformationModelMove",
    GenericImplantTemplateInformationModelGet: "GenericImplantTemplateInformationModelGet",
    ImplantAssemblyTemplateStorage: "ImplantAssemblyTemplateStorage",
    ImplantAssemblyTemplateInformationModelFind: "ImplantAssemblyTemplateInformationModelFind",
    ImplantAssemblyTemplateInformationModelMove: "ImplantAssemblyTemplateInformationModelMove",
    ImplantAssemblyTemplateInformationModelGet: "ImplantAssemblyTemplateInformationModelGet",
    ImplantTemplateGroupStorage: "ImplantTemplateGroupStorage",
    ImplantTemplateGroupInformationModelFind: "ImplantTemplateGroupInformationModelFind",
    ImplantTemplateGroupInformationModelMove: "ImplantTemplateGroupInformationModelMove",
    ImplantTemplateGroupInformationModelGet: "ImplantTemplateGroupInformationModelGet",
    VideoEndoscopicImageRealTimeCommunication: "VideoEndoscopicImageRealTimeCommunication",
    VideoPhotographicImageRealTimeCommunication: "VideoPhotographicImageRealTimeCommunication",
    AudioWaveformRealTimeCommunication: "AudioWaveformRealTimeCommunication",
    RenditionSelectionDocumentRealTimeCommunication: (
        "RenditionSelectionDocumentRealTimeCommunication"
    ),
}
"""UID -> keyword of every constant above (pydicom's spelling)."""


VERIFICATION_SOP_CLASSES: list[UID] = [
    Verification,
]
"""Verification (PS3.4 Annex A)."""

STORAGE_SOP_CLASSES: list[UID] = [
    StoredPrintStorage,
    HardcopyGrayscaleImageStorage,
    HardcopyColorImageStorage,
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalMammographyXRayImageStorageForProcessing,
    DigitalIntraOralXRayImageStorageForPresentation,
    DigitalIntraOralXRayImageStorageForProcessing,
    CTImageStorage,
    EnhancedCTImageStorage,
    LegacyConvertedEnhancedCTImageStorage,
    UltrasoundMultiFrameImageStorageRetired,
    UltrasoundMultiFrameImageStorage,
    MRImageStorage,
    EnhancedMRImageStorage,
    MRSpectroscopyStorage,
    EnhancedMRColorImageStorage,
    LegacyConvertedEnhancedMRImageStorage,
    NuclearMedicineImageStorageRetired,
    UltrasoundImageStorageRetired,
    UltrasoundImageStorage,
    EnhancedUSVolumeStorage,
    PhotoacousticImageStorage,
    SecondaryCaptureImageStorage,
    MultiFrameSingleBitSecondaryCaptureImageStorage,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    StandaloneOverlayStorage,
    StandaloneCurveStorage,
    WaveformStorageTrial,
    TwelveLeadECGWaveformStorage,
    GeneralECGWaveformStorage,
    AmbulatoryECGWaveformStorage,
    General32bitECGWaveformStorage,
    HemodynamicWaveformStorage,
    CardiacElectrophysiologyWaveformStorage,
    BasicVoiceAudioWaveformStorage,
    GeneralAudioWaveformStorage,
    ArterialPulseWaveformStorage,
    RespiratoryWaveformStorage,
    MultichannelRespiratoryWaveformStorage,
    RoutineScalpElectroencephalogramWaveformStorage,
    ElectromyogramWaveformStorage,
    ElectrooculogramWaveformStorage,
    SleepElectroencephalogramWaveformStorage,
    BodyPositionWaveformStorage,
    WaveformPresentationStateStorage,
    WaveformAcquisitionPresentationStateStorage,
    StandaloneModalityLUTStorage,
    StandaloneVOILUTStorage,
    GrayscaleSoftcopyPresentationStateStorage,
    ColorSoftcopyPresentationStateStorage,
    PseudoColorSoftcopyPresentationStateStorage,
    BlendingSoftcopyPresentationStateStorage,
    XAXRFGrayscaleSoftcopyPresentationStateStorage,
    GrayscalePlanarMPRVolumetricPresentationStateStorage,
    CompositingPlanarMPRVolumetricPresentationStateStorage,
    AdvancedBlendingPresentationStateStorage,
    VolumeRenderingVolumetricPresentationStateStorage,
    SegmentedVolumeRenderingVolumetricPresentationStateStorage,
    MultipleVolumeRenderingVolumetricPresentationStateStorage,
    VariableModalityLUTSoftcopyPresentationStateStorage,
    XRayAngiographicImageStorage,
    EnhancedXAImageStorage,
    XRayRadiofluoroscopicImageStorage,
    EnhancedXRFImageStorage,
    XRayAngiographicBiPlaneImageStorage,
    XRay3DAngiographicImageStorage,
    XRay3DCraniofacialImageStorage,
    BreastTomosynthesisImageStorage,
    BreastProjectionXRayImageStorageForPresentation,
    BreastProjectionXRayImageStorageForProcessing,
    IntravascularOpticalCoherenceTomographyImageStorageForPresentation,
    IntravascularOpticalCoherenceTomographyImageStorageForProcessing,
    NuclearMedicineImageStorage,
    ParametricMapStorage,
    RawDataStorage,
    SpatialRegistrationStorage,
    SpatialFiducialsStorage,
    DeformableSpatialRegistrationStorage,
    SegmentationStorage,
    SurfaceSegmentationStorage,
    TractographyResultsStorage,
    LabelMapSegmentationStorage,
    HeightMapSegmentationStorage,
    RealWorldValueMappingStorage,
    SurfaceScanMeshStorage,
    SurfaceScanPointCloudStorage,
    VLImageStorageTrial,
    VLEndoscopicImageStorage,
    VideoEndoscopicImageStorage,
    VLMicroscopicImageStorage,
    VideoMicroscopicImageStorage,
    VLSlideCoordinatesMicroscopicImageStorage,
    VLPhotographicImageStorage,
    VideoPhotographicImageStorage,
    OphthalmicPhotography8BitImageStorage,
    OphthalmicPhotography16BitImageStorage,
    StereometricRelationshipStorage,
    OphthalmicTomographyImageStorage,
    WideFieldOphthalmicPhotographyStereographicProjectionImageStorage,
    WideFieldOphthalmicPhotography3DCoordinatesImageStorage,
    OphthalmicOpticalCoherenceTomographyEnFaceImageStorage,
    OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage,
    VLWholeSlideMicroscopyImageStorage,
    DermoscopicPhotographyImageStorage,
    ConfocalMicroscopyImageStorage,
    ConfocalMicroscopyTiledPyramidalImageStorage,
    VLMultiFrameImageStorageTrial,
    LensometryMeasurementsStorage,
    AutorefractionMeasurementsStorage,
    KeratometryMeasurementsStorage,
    SubjectiveRefractionMeasurementsStorage,
    VisualAcuityMeasurementsStorage,
    SpectaclePrescriptionReportStorage,
    OphthalmicAxialMeasurementsStorage,
    IntraocularLensCalculationsStorage,
    MacularGridThicknessAndVolumeReportStorage,
    OphthalmicVisualFieldStaticPerimetryMeasurementsStorage,
    OphthalmicThicknessMapStorage,
    CornealTopographyMapStorage,
    TextSRStorageTrial,
    AudioSRStorageTrial,
    DetailSRStorageTrial,
    ComprehensiveSRStorageTrial,
    BasicTextSRStorage,
    EnhancedSRStorage,
    ComprehensiveSRStorage,
    Comprehensive3DSRStorage,
    ExtensibleSRStorage,
    ProcedureLogStorage,
    MammographyCADSRStorage,
    KeyObjectSelectionDocumentStorage,
    ChestCADSRStorage,
    XRayRadiationDoseSRStorage,
    RadiopharmaceuticalRadiationDoseSRStorage,
    ColonCADSRStorage,
    ImplantationPlanSRStorage,
    AcquisitionContextSRStorage,
    SimplifiedAdultEchoSRStorage,
    PatientRadiationDoseSRStorage,
    PlannedImagingAgentAdministrationSRStorage,
    PerformedImagingAgentAdministrationSRStorage,
    EnhancedXRayRadiationDoseSRStorage,
    WaveformAnnotationSRStorage,
    ContentAssessmentResultsStorage,
    MicroscopyBulkSimpleAnnotationsStorage,
    EncapsulatedPDFStorage,
    EncapsulatedCDAStorage,
    EncapsulatedSTLStorage,
    EncapsulatedOBJStorage,
    EncapsulatedMTLStorage,
    PositronEmissionTomographyImageStorage,
    LegacyConvertedEnhancedPETImageStorage,
    StandalonePETCurveStorage,
    EnhancedPETImageStorage,
    BasicStructuredDisplayStorage,
    CTPerformedProcedureProtocolStorage,
    XAPerformedProcedureProtocolStorage,
    RTImageStorage,
    RTDoseStorage,
    RTStructureSetStorage,
    RTBeamsTreatmentRecordStorage,
    RTPlanStorage,
    RTBrachyTreatmentRecordStorage,
    RTTreatmentSummaryRecordStorage,
    RTIonPlanStorage,
    RTIonBeamsTreatmentRecordStorage,
    RTPhysicianIntentStorage,
    RTSegmentAnnotationStorage,
    RTRadiationSetStorage,
    CArmPhotonElectronRadiationStorage,
    TomotherapeuticRadiationStorage,
    RoboticArmRadiationStorage,
    RTRadiationRecordSetStorage,
    RTRadiationSalvageRecordStorage,
    TomotherapeuticRadiationRecordStorage,
    CArmPhotonElectronRadiationRecordStorage,
    RoboticRadiationRecordStorage,
    RTRadiationSetDeliveryInstructionStorage,
    RTTreatmentPreparationStorage,
    EnhancedRTImageStorage,
    EnhancedContinuousRTImageStorage,
    RTPatientPositionAcquisitionInstructionStorage,
    DICOSCTImageStorage,
    DICOSDigitalXRayImageStorageForPresentation,
    DICOSDigitalXRayImageStorageForProcessing,
    DICOSThreatDetectionReportStorage,
    DICOS2DAITStorage,
    DICOS3DAITStorage,
    DICOSQuadrupoleResonanceStorage,
    EddyCurrentImageStorage,
    EddyCurrentMultiFrameImageStorage,
    RTBeamsDeliveryInstructionStorageTrial,
    RTBeamsDeliveryInstructionStorage,
    RTBrachyApplicationSetupDeliveryInstructionStorage,
]
"""Storage (PS3.4 Annex B), retired ones included."""

QR_FIND_SOP_CLASSES: list[UID] = [
    RepositoryQuery,
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    PatientStudyOnlyQueryRetrieveInformationModelFind,
]
"""Query/Retrieve C-FIND models (PS3.4 Annex C)."""

QR_MOVE_SOP_CLASSES: list[UID] = [
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelMove,
    PatientStudyOnlyQueryRetrieveInformationModelMove,
    CompositeInstanceRootRetrieveMove,
]
"""Query/Retrieve C-MOVE models (PS3.4 Annex C)."""

QR_GET_SOP_CLASSES: list[UID] = [
    PatientRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelGet,
    PatientStudyOnlyQueryRetrieveInformationModelGet,
    CompositeInstanceRootRetrieveGet,
    CompositeInstanceRetrieveWithoutBulkDataGet,
]
"""Query/Retrieve C-GET models (PS3.4 Annex C)."""

BASIC_WORKLIST_SOP_CLASSES: list[UID] = [
    ModalityWorklistInformationModelFind,
]
"""Basic Worklist Management (PS3.4 Annex K)."""

RELEVANT_PATIENT_SOP_CLASSES: list[UID] = [
    GeneralRelevantPatientInformationQuery,
    BreastImagingRelevantPatientInformationQuery,
    CardiacRelevantPatientInformationQuery,
]
"""Relevant Patient Information Query (PS3.4 Annex Q)."""

SUBSTANCE_ADMINISTRATION_SOP_CLASSES: list[UID] = [
    ProductCharacteristicsQuery,
    SubstanceApprovalQuery,
]
"""Substance Administration Query (PS3.4 Annex V)."""

NON_PATIENT_STORAGE_SOP_CLASSES: list[UID] = [
    CTDefinedProcedureProtocolStorage,
    ProtocolApprovalStorage,
    XADefinedProcedureProtocolStorage,
    InventoryStorage,
    HangingProtocolStorage,
    ColorPaletteStorage,
    GenericImplantTemplateStorage,
    ImplantAssemblyTemplateStorage,
    ImplantTemplateGroupStorage,
]
"""Non-Patient Object Storage (PS3.4 Annex GG)."""

HANGING_PROTOCOL_SOP_CLASSES: list[UID] = [
    HangingProtocolInformationModelFind,
    HangingProtocolInformationModelMove,
    HangingProtocolInformationModelGet,
]
"""Hanging Protocol Query/Retrieve (PS3.4 Annex U)."""

DEFINED_PROCEDURE_SOP_CLASSES: list[UID] = [
    DefinedProcedureProtocolInformationModelFind,
    DefinedProcedureProtocolInformationModelMove,
    DefinedProcedureProtocolInformationModelGet,
]
"""Defined Procedure Protocol Query/Retrieve (PS3.4 Annex HH)."""

COLOR_PALETTE_SOP_CLASSES: list[UID] = [
    ColorPaletteQueryRetrieveInformationModelFind,
    ColorPaletteQueryRetrieveInformationModelMove,
    ColorPaletteQueryRetrieveInformationModelGet,
]
"""Color Palette Query/Retrieve (PS3.4 Annex X)."""

IMPLANT_TEMPLATE_SOP_CLASSES: list[UID] = [
    GenericImplantTemplateInformationModelFind,
    GenericImplantTemplateInformationModelMove,
    GenericImplantTemplateInformationModelGet,
    ImplantAssemblyTemplateInformationModelFind,
    ImplantAssemblyTemplateInformationModelMove,
    ImplantAssemblyTemplateInformationModelGet,
    ImplantTemplateGroupInformationModelFind,
    ImplantTemplateGroupInformationModelMove,
    ImplantTemplateGroupInformationModelGet,
]
"""Implant Template Query/Retrieve (PS3.4 Annex BB)."""

COMMON_STORAGE_SOP_CLASSES: list[UID] = [
    StoredPrintStorage,
    HardcopyGrayscaleImageStorage,
    HardcopyColorImageStorage,
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalMammographyXRayImageStorageForProcessing,
    DigitalIntraOralXRayImageStorageForPresentation,
    DigitalIntraOralXRayImageStorageForProcessing,
    CTImageStorage,
    EnhancedCTImageStorage,
    LegacyConvertedEnhancedCTImageStorage,
    UltrasoundMultiFrameImageStorageRetired,
    UltrasoundMultiFrameImageStorage,
    MRImageStorage,
    EnhancedMRImageStorage,
    MRSpectroscopyStorage,
    EnhancedMRColorImageStorage,
    LegacyConvertedEnhancedMRImageStorage,
    NuclearMedicineImageStorageRetired,
    UltrasoundImageStorageRetired,
    UltrasoundImageStorage,
    EnhancedUSVolumeStorage,
    SecondaryCaptureImageStorage,
    MultiFrameSingleBitSecondaryCaptureImageStorage,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    StandaloneOverlayStorage,
    StandaloneCurveStorage,
    TwelveLeadECGWaveformStorage,
    GeneralECGWaveformStorage,
    AmbulatoryECGWaveformStorage,
    HemodynamicWaveformStorage,
    CardiacElectrophysiologyWaveformStorage,
    BasicVoiceAudioWaveformStorage,
    GeneralAudioWaveformStorage,
    ArterialPulseWaveformStorage,
    RespiratoryWaveformStorage,
    StandaloneModalityLUTStorage,
    StandaloneVOILUTStorage,
    GrayscaleSoftcopyPresentationStateStorage,
    ColorSoftcopyPresentationStateStorage,
    PseudoColorSoftcopyPresentationStateStorage,
    BlendingSoftcopyPresentationStateStorage,
    XAXRFGrayscaleSoftcopyPresentationStateStorage,
    XRayAngiographicImageStorage,
    EnhancedXAImageStorage,
    XRayRadiofluoroscopicImageStorage,
    EnhancedXRFImageStorage,
    XRayAngiographicBiPlaneImageStorage,
    XRay3DAngiographicImageStorage,
    XRay3DCraniofacialImageStorage,
    BreastTomosynthesisImageStorage,
    IntravascularOpticalCoherenceTomographyImageStorageForPresentation,
    IntravascularOpticalCoherenceTomographyImageStorageForProcessing,
    NuclearMedicineImageStorage,
    RawDataStorage,
    SpatialRegistrationStorage,
    SpatialFiducialsStorage,
    DeformableSpatialRegistrationStorage,
    SegmentationStorage,
    SurfaceSegmentationStorage,
    RealWorldValueMappingStorage,
    SurfaceScanMeshStorage,
    SurfaceScanPointCloudStorage,
    VLImageStorageTrial,
    VLEndoscopicImageStorage,
    VideoEndoscopicImageStorage,
    VLMicroscopicImageStorage,
    VideoMicroscopicImageStorage,
    VLSlideCoordinatesMicroscopicImageStorage,
    VLPhotographicImageStorage,
    VideoPhotographicImageStorage,
    OphthalmicPhotography8BitImageStorage,
    OphthalmicPhotography16BitImageStorage,
    StereometricRelationshipStorage,
    OphthalmicTomographyImageStorage,
    VLWholeSlideMicroscopyImageStorage,
    VLMultiFrameImageStorageTrial,
    LensometryMeasurementsStorage,
    AutorefractionMeasurementsStorage,
    KeratometryMeasurementsStorage,
    SubjectiveRefractionMeasurementsStorage,
    VisualAcuityMeasurementsStorage,
    SpectaclePrescriptionReportStorage,
    OphthalmicAxialMeasurementsStorage,
    IntraocularLensCalculationsStorage,
    MacularGridThicknessAndVolumeReportStorage,
    OphthalmicVisualFieldStaticPerimetryMeasurementsStorage,
    OphthalmicThicknessMapStorage,
    BasicTextSRStorage,
    EnhancedSRStorage,
    ComprehensiveSRStorage,
    Comprehensive3DSRStorage,
    ProcedureLogStorage,
    MammographyCADSRStorage,
    KeyObjectSelectionDocumentStorage,
    ChestCADSRStorage,
    XRayRadiationDoseSRStorage,
    ColonCADSRStorage,
    ImplantationPlanSRStorage,
    EncapsulatedPDFStorage,
    EncapsulatedCDAStorage,
    PositronEmissionTomographyImageStorage,
    LegacyConvertedEnhancedPETImageStorage,
    StandalonePETCurveStorage,
    EnhancedPETImageStorage,
    BasicStructuredDisplayStorage,
    RTImageStorage,
    RTDoseStorage,
    RTStructureSetStorage,
    RTBeamsTreatmentRecordStorage,
    RTPlanStorage,
    RTBrachyTreatmentRecordStorage,
    RTTreatmentSummaryRecordStorage,
    RTIonPlanStorage,
    RTIonBeamsTreatmentRecordStorage,
    RTBeamsDeliveryInstructionStorage,
]
"""The 120 Storage SOP Classes proposed by default (PS3.8 9.3.2.2: at most 128)."""

_SERVICE_GROUPS: tuple[tuple[str, list[UID]], ...] = (
    ("verification", VERIFICATION_SOP_CLASSES),
    ("storage", STORAGE_SOP_CLASSES),
    ("qr_find", QR_FIND_SOP_CLASSES),
    ("qr_move", QR_MOVE_SOP_CLASSES),
    ("qr_get", QR_GET_SOP_CLASSES),
    ("modality_worklist", BASIC_WORKLIST_SOP_CLASSES),
    ("relevant_patient", RELEVANT_PATIENT_SOP_CLASSES),
    ("substance_administration", SUBSTANCE_ADMINISTRATION_SOP_CLASSES),
    ("non_patient", NON_PATIENT_STORAGE_SOP_CLASSES),
    ("hanging_protocol", HANGING_PROTOCOL_SOP_CLASSES),
    ("defined_procedure", DEFINED_PROCEDURE_SOP_CLASSES),
    ("color_palette", COLOR_PALETTE_SOP_CLASSES),
    ("implant_template", IMPLANT_TEMPLATE_SOP_CLASSES),
)


# Service Class UIDs (PS3.6 Table A-1) that stand for a whole service class.
_SERVICE_CLASS_UIDS: dict[str, str] = {"1.2.840.10008.4.2": "storage"}

# Storage SOP Classes are registered under this root; the 200 and 201
# branches below it hold protocol and inventory classes of other services.
_STORAGE_ROOT = "1.2.840.10008.5.1.4.1.1."
_NOT_STORAGE_BRANCHES = ("1.2.840.10008.5.1.4.1.1.200.", "1.2.840.10008.5.1.4.1.1.201.")

_SERVICE_CLASS_OF: dict[str, str] = {
    uid: service for service, uids in _SERVICE_GROUPS for uid in uids
}


def uid_to_service_class(uid: str) -> str:
    """Name the service class (PS3.4) that a SOP Class UID belongs to.

    Returns one of "verification", "storage", "qr_find", "qr_get", "qr_move",
    "modality_worklist", "relevant_patient", "substance_administration",
    "non_patient", "hanging_protocol", "defined_procedure", "color_palette",
    "implant_template", or "" for a UID of any other (or no) service class.

    A UID this module does not know but registered under the Storage root
    (PS3.6: 1.2.840.10008.5.1.4.1.1.x) is taken as Storage, so an SCP keeps
    accepting SOP Classes added to the standard after this file was generated.
    """
    uid = str(uid)
    found = _SERVICE_CLASS_OF.get(uid) or _SERVICE_CLASS_UIDS.get(uid)
    if found is not None:
        return found
    if uid in SOP_CLASS_NAMES:
        return ""
    if uid.startswith(_STORAGE_ROOT) and not uid.startswith(_NOT_STORAGE_BRANCHES):
        return "storage"
    return ""
