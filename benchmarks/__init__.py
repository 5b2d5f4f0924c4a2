"""dicomwire's benchmark suite: ``python -m benchmarks`` (see ``--help``).

Every scenario runs each side of each pair as a separate process: dicomwire
and pynetdicom through :mod:`benchmarks.peer`, DCMTK through its own
binaries (with ``TCP_NODELAY=1``). The suite generates its data with pydicom
(:mod:`benchmarks.data`), repeats each run, and writes a markdown table and a
JSON document to ``benchmarks/results/`` (:mod:`benchmarks.report`).

Modules:

* :mod:`benchmarks.procs`: processes with their CPU time (``wait4``) and peak RSS (``VmHWM``).
* :mod:`benchmarks.tools`: locating DCMTK, Orthanc and PostgreSQL binaries.
* :mod:`benchmarks.data`: the instances, generated once into ``benchmarks/.data/``.
* :mod:`benchmarks.peer`: dicomwire and pynetdicom SCP/SCU drivers (one code path
  for both, as dicomwire keeps pynetdicom's API).
* :mod:`benchmarks.sides`: one side of a pair (SCP started, SCU run) for each
  implementation.
* :mod:`benchmarks.rawtcp`: the raw loopback TCP reference of the 1 GiB scenario.
* :mod:`benchmarks.scenarios`: scenarios 1-7.
* :mod:`benchmarks.node`, :mod:`benchmarks.archives`: scenario 8, the node
  against Orthanc and DCMTK ``dcmqrscp``.
* :mod:`benchmarks.report`: statistics, ratios, markdown and JSON.
* :mod:`benchmarks.profiles`: a text summary of the py-spy profiles of ``--profile``.
"""
