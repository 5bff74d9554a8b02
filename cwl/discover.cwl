#!/usr/bin/env cwl-runner
# Notebook 01-discover as a tool: s1flood notebook run (papermill), scraps -> cwl.output.json.
# Each input is one line; its name, type, default and doc are those of s1flood.steps.discover
# (tests/test_50_interfaces.py holds them together; scripts/interface_lines.py prints a line).
cwlVersion: v1.2
class: CommandLineTool
id: discover
label: "Discover Sentinel-1 scenes (notebook 01-discover)"
doc: |
  Find the Sentinel-1 scenes covering an area in a time window (s1flood.discover), by running
  the notebook notebooks/01-discover.ipynb with papermill. Outputs the product identifiers (the
  list the classification step scatters over) and the executed notebook. No scene found: the
  step fails with the notebook's one-line error.
$namespaces:
  s: https://schema.org/
  cwltool: http://commonwl.org/cwltool#
s:softwareVersion: "0.1.0"
s:codeRepository: https://github.com/s1flood/s1flood
s:license: https://spdx.org/licenses/Apache-2.0
hints:
  DockerRequirement:
    dockerPull: ghcr.io/s1flood/s1flood-discover:0.1.0
requirements:
  # measured (benchmarks/bench_workflow.py and bench_scale.py, cwltool's "Max memory used" of
  # the job's process tree, kernel included): 194 to 330 MiB; a catalogue answer of
  # thousands of scenes adds little
  ResourceRequirement: {coresMin: 1, coresMax: 1, ramMin: 512, ramMax: 1024}
  NetworkAccess: {networkAccess: true}
  InlineJavascriptRequirement:
    expressionLib:
      - $include: notebook.js
  InitialWorkDirRequirement:
    listing:
      - entryname: parameters.json
        entry: '$(notebookParameters({}, ["catalogue"]))'
baseCommand: [s1flood, notebook, run]
arguments:
  - $(inputs.notebook.path)
  - 01-discover.ipynb
  - {prefix: --parameters-file, valueFrom: parameters.json}
  - {prefix: --cwl-output, valueFrom: cwl.output.json}
  - --ignore-unknown  # a job file may hold the whole workflow's inputs
inputs:
  notebook: {type: File, label: notebook, doc: "The notebook to run.", default: {class: File, location: ../notebooks/01-discover.ipynb}}
  aoi: {"type": "string", "label": "aoi", "doc": "area of interest, a WKT polygon in lon/lat (EPSG:4326)."}
  start: {"type": "string", "label": "start", "doc": "start of the time window, ISO 8601 (UTC unless an offset is given)."}
  end: {"type": "string", "label": "end", "doc": "end of the time window, ISO 8601; after ``start``."}
  catalogue: {"type": "Directory?", "label": "catalogue", "doc": "a staged folder holding a static STAC catalog (``catalog.json``, or ``catalog/catalog.json``) and the products its Items point to; or give ``catalogue_name``."}
  catalogue_name: {"type": "string?", "label": "catalogue name", "doc": "the catalogue by name, when ``catalogue`` is not given: ``cdse`` (Copernicus Data Space OData), ``stac:URL`` (or ``stac:cdse``, ``stac:planetary-computer``, ``stac:earth-search``), ``asf`` or ``dhus:URL``. One of ``catalogue`` and ``catalogue_name`` is required."}
  mode: {"type": "string", "label": "mode", "doc": "acquisition mode. Default ``IW``.", "default": "IW"}
  product_type: {"type": "string", "label": "product_type", "doc": "product type. Default ``GRD``.", "default": "GRD"}
  polarisation: {"type": "string?", "label": "polarisation", "doc": "a polarisation every scene must have (VV, VH, HH or HV); a pair (``VV+VH``, ``HH+HV``) keeps the scenes with its co-polarised one; default any."}
  orbit_direction: {"type": "string?", "label": "orbit_direction", "doc": "``ascending`` or ``descending``; default both."}
  relative_orbit: {"type": "int", "label": "relative_orbit", "doc": "relative orbit number, 1 to 175; 0 (default): any.", "default": 0}
  min_coverage: {"type": "float", "label": "min_coverage", "doc": "fraction of the AOI (0 to 1) a scene must cover. Default 0.", "default": 0.0}
  settings: {"type": "string[]", "label": "settings", "doc": "discovery settings as ``KEY=VALUE`` (e.g. ``dhus_url=...``, ``asf_url=...``, ``trusted_hosts=...``); also ``S1FLOOD_<KEY>`` or ``[discovery]`` in the configuration file.", "default": []}
  odata_url: {"type": "string?", "label": "odata_url", "doc": "CDSE OData base URL (default: the configured one)."}
  token_url: {"type": "string?", "label": "token_url", "doc": "token endpoint URL (default: the configured one)."}
  stac_collection: {"type": "string?", "label": "stac_collection", "doc": "STAC collection id (default: the configured one)."}
outputs:
  identifiers: {type: "string[]", label: identifiers, doc: "Product names in time order: the list the classification step scatters over."}
  count: {type: int, label: count, doc: "Number of scenes found."}
  executed_notebook: {type: File, label: executed notebook, doc: "The executed notebook, with its scraps."}
