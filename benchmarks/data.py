"""The instances the scenarios send, generated with pydicom and cached.

Everything lives under ``benchmarks/.data/`` (git-ignored), one folder per
set, marked complete by a ``.complete`` file so an interrupted generation is
redone. All files are CT Image Storage in Explicit VR Little Endian (what
every peer here accepts first), one study and one series per set, with
random (incompressible) pixel data.

* :func:`ct_set`: ``count`` files with ``pixel_bytes`` of pixel data each.
* :func:`big_ct`: one multi-frame file of ``pixel_bytes``, its Pixel Data
  streamed to disk so it is never in memory.
* :func:`split_set`: hard links of a set's files into ``parts`` folders (one
  per concurrent sender; DCMTK ``storescu +sd`` sends a folder).
* :func:`header_only_set`: instances without pixel data, for query indexes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

DATA_ROOT = Path(__file__).resolve().parent / ".data"
FORMAT = "2"  # bump to regenerate every cached set
_PREFIX = "1.2.826.0.1.3680043.10.1080."  # generate_uid() prefix of this suite's data


def uid() -> str:
    return str(generate_uid(prefix=_PREFIX))


def base_dataset(
    study: str, series: str, number: int, patient: str = "BENCH^PATIENT", patient_id: str = "B1"
) -> Dataset:
    """A CT instance's patient, study, series and SOP modules (no pixels yet)."""
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = uid()
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.FrameOfReferenceUID = study + ".1" if len(study) < 62 else study
    ds.PatientName = patient
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20240102"
    ds.StudyTime = "101112"
    ds.StudyID = "1"
    ds.AccessionNumber = "ACC" + patient_id[-10:]
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "BENCHMARK"
    ds.Modality = "CT"
    ds.SeriesNumber = 1
    ds.SeriesDescription = "BENCH SERIES"
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0, 0, number]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = 1
    ds.KVP = 120
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def _geometry(pixel_bytes: int) -> tuple[int, int, int]:
    """(frames, rows, columns) of 16-bit pixels holding exactly ``pixel_bytes``."""
    pixels = pixel_bytes // 2
    frame = 512 * 512
    if pixels > frame and pixels % frame == 0:
        return pixels // frame, 512, 512
    for columns in (512, 256, 160, 128, 64, 32, 16, 8, 4, 2, 1):
        if pixels % columns == 0 and pixels // columns <= 65535:
            return 1, pixels // columns, columns
    raise ValueError(f"no image geometry for {pixel_bytes} bytes")


def _pixel_module(ds: Dataset, frames: int, rows: int, columns: int) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [0.5, 0.5]
    if frames > 1:
        ds.NumberOfFrames = frames


def _complete(folder: Path) -> bool:
    marker = folder / ".complete"
    return marker.exists() and marker.read_text() == FORMAT


def _build(folder: Path, fill: Callable[[Path], None]) -> Path:
    """Run ``fill(tmp)`` into a fresh temporary folder, then move it in place."""
    if _complete(folder):
        return folder
    temporary = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    temporary.mkdir(parents=True)
    fill(temporary)
    (temporary / ".complete").write_text(FORMAT)
    temporary.rename(folder)
    return folder


def dicom_files(folder: Path) -> list[Path]:
    """The ``.dcm`` files of a set, in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix == ".dcm")


def ct_set(count: int, pixel_bytes: int, root: Path = DATA_ROOT, per_study: int = 0) -> Path:
    """A folder of ``count`` CT files with ``pixel_bytes`` of pixels each.

    One study and series, or a new study every ``per_study`` instances.
    """
    name = f"ct-{_size_name(pixel_bytes)}-x{count}" + (f"-per{per_study}" if per_study else "")

    def fill(folder: Path) -> None:
        frames, rows, columns = _geometry(pixel_bytes)
        rng = random.Random(pixel_bytes * 7919 + count)
        for number in range(1, count + 1):
            if number == 1 or (per_study and (number - 1) % per_study == 0):
                study, series = uid(), uid()
            ds = base_dataset(study, series, number)
            _pixel_module(ds, frames, rows, columns)
            ds.PixelData = rng.randbytes(pixel_bytes)
            ds["PixelData"].VR = "OW"
            ds.save_as(folder / f"{number:06d}.dcm", enforce_file_format=True)

    return _build(root / name, fill)


def big_ct(pixel_bytes: int, root: Path = DATA_ROOT, chunk: int = 8 << 20) -> Path:
    """One multi-frame CT file with ``pixel_bytes`` of pixels, streamed to disk."""
    name = f"big-{_size_name(pixel_bytes)}"

    def fill(folder: Path) -> None:
        ds = base_dataset(uid(), uid(), 1)
        frames, rows, columns = _geometry(pixel_bytes)
        _pixel_module(ds, frames, rows, columns)
        path = folder / "big.dcm"
        ds.save_as(path, enforce_file_format=True)
        # Pixel Data is the last element: append its header (PS3.5 7.1.2, OW has a
        # 4-byte length) and stream the value.
        block = random.Random(pixel_bytes).randbytes(chunk)
        with open(path, "ab") as fh:
            fh.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixel_bytes))
            for start in range(0, pixel_bytes, chunk):
                fh.write(block[: min(chunk, pixel_bytes - start)])

    return _build(root / name, fill) / "big.dcm"


def split_set(source: Path, parts: int, per_part: int, root: Path = DATA_ROOT) -> list[Path]:
    """``parts`` folders of ``per_part`` files each, hard-linked from ``source``'s files."""
    name = f"{source.name}-split{parts}x{per_part}"
    files = dicom_files(source)
    if len(files) < per_part:
        raise ValueError(f"{source} has {len(files)} files, {per_part} needed per part")

    def fill(folder: Path) -> None:
        for part in range(parts):
            target = folder / f"p{part:02d}"
            target.mkdir()
            for index in range(per_part):
                src = files[(part * per_part + index) % len(files)]
                _link(src, target / src.name)

    folder = _build(root / name, fill)
    return [folder / f"p{part:02d}" for part in range(parts)]


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass(frozen=True)
class HeaderSet:
    """A folder of instances without pixel data, and the UIDs in it (see meta.json)."""

    folder: Path
    count: int
    studies: int
    series_per_study: int
    run: str

    @property
    def names(self) -> Placeholders:
        return Placeholders(self.run)

    def files(self) -> list[Path]:
        return dicom_files(self.folder)

    @property
    def per_series(self) -> int:
        return self.count // (self.studies * self.series_per_study)


def header_only_set(
    count: int, studies: int = 1, series_per_study: int = 1, root: Path = DATA_ROOT
) -> HeaderSet:
    """``count`` CT instances without pixel data, spread over studies and series.

    Written from one pydicom-encoded template whose placeholders are replaced
    by values of the same length (pydicom takes ~3 ms a file, far too slow
    for the 100,000 instances of an index). See :func:`header_only_instances`.
    """
    if count % (studies * series_per_study):
        raise ValueError("count must be a multiple of studies x series_per_study")
    name = f"hdr-x{count}-s{studies}x{series_per_study}"

    def fill(folder: Path) -> None:
        run = new_run()
        numbered = enumerate(header_only_instances(count, studies, series_per_study, run))
        for number, encoded in numbered:
            (folder / f"{number:07d}.dcm").write_bytes(encoded)
        (folder / "meta.json").write_text(json.dumps({"run": run}))

    folder = _build(root / name, fill)
    run = json.loads((folder / "meta.json").read_text())["run"]
    return HeaderSet(folder, count, studies, series_per_study, run)


@dataclass(frozen=True)
class Placeholders:
    """Fixed-length UIDs (no component with a leading zero, PS3.5 9.1) per number."""

    run: str

    def study(self, n: int) -> str:
        return f"{_PREFIX}{self.run}.1.1{n:07d}"

    def series(self, n: int, s: int) -> str:
        return f"{_PREFIX}{self.run}.2.1{n:07d}{s:03d}"

    def sop(self, n: int) -> str:
        return f"{_PREFIX}{self.run}.3.1{n:09d}"


def new_run() -> str:
    """A random UID component of 9 digits without the template's placeholders."""
    while True:
        run = str(random.Random().randrange(10**8, 10**9))
        if "7777777" not in run and "9999" not in run:
            return run


def header_only_instances(
    count: int, studies: int, series_per_study: int, run: str | None = None
) -> Iterator[bytes]:
    """Encoded instances without pixels, ``count`` in all, spread evenly over studies and series.

    Patient ``B<n>`` (``PATIENT^<n>``, accession ``ACC<n>``) has study ``n``;
    study dates vary with the study so study-level matching has work to do.
    """
    fake = 7777777  # patient/study number placeholder; 99999999 is the instance number's
    names = Placeholders(run or new_run())
    template = base_dataset(
        names.study(fake), names.series(fake, 999), 99999999,
        patient=f"PATIENT^{fake:07d}", patient_id=f"B{fake:07d}",
    )  # fmt: skip
    template.SOPInstanceUID = names.sop(999999999)
    template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
    template.AccessionNumber = f"ACC{fake:07d}"
    template.StudyDate = "20991231"
    template.FrameOfReferenceUID = names.study(fake)
    buffer = BytesIO()
    template.save_as(buffer, enforce_file_format=True)
    encoded = buffer.getvalue()
    for number in range(count):
        study = number % studies
        series = (number // studies) % series_per_study
        yield _replace_all(
            encoded,
            {
                names.sop(999999999): names.sop(number),
                names.series(fake, 999): names.series(study, series),
                names.study(fake): names.study(study),
                f"{fake:07d}": f"{study:07d}",
                "20991231": f"2024{1 + study % 12:02d}{1 + study % 28:02d}",
                "99999999": f"{number + 1:08d}",
            },
        )


def _replace_all(encoded: bytes, values: dict[str, str]) -> bytes:
    for old, new in values.items():
        assert len(old) == len(new), (old, new)
        encoded = encoded.replace(old.encode(), new.encode())
    return encoded


def _size_name(size: int) -> str:
    for unit, factor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
