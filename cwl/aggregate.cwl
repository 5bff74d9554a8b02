#!/usr/bin/env cwl-runner
# Notebook 03-aggregate as a tool: s1flood notebook run (papermill), scraps -> cwl.output.json.
# Each input is one line; its name, type, default and doc are those of
# s1flood.steps.aggregate (tests/test_50_interfaces.py holds them together).
cwlVersion: v1.2
class: CommandLineTool
id: aggregate
label: "Aggregate water masks into water frequency (notebook 03-aggregate)"
doc: |
  Count water and valid observations per pixel over the masks, frequency = water / valid,
  classes (permanent water, flood candidate, dry), and the flood record from the masks'
  acquisition times: reference water, flood extent and count, first/last flooded, minimum
  and maximum duration, episodes and, with the DEM, the maximum depth (s1flood.aggregate),
  by running notebooks/03-aggregate.ipynb with papermill. Outputs a folder with the COGs,
  the PNG maps, timeseries.csv, the summary and a STAC catalog of them, and the executed
  notebook.
$namespaces:
  s: https://schema.org/
s:softwareVersion: "0.1.0"
s:codeRepository: https://github.com/s1flood/s1flood
s:license: https://spdx.org/licenses/Apache-2.0
hints:
  DockerRequirement:
    dockerPull: ghcr.io/s1flood/s1flood-aggregate:0.1.0
requirements:
  # measured (benchmarks/bench_workflow.py, cwltool's "Max memory used" of the job's process
  # tree, kernel included): 540 MiB for 4 masks; window by window, so memory grows with the
  # number of masks kept open (at most 32), not with the scene size
  ResourceRequirement: {coresMin: 1, coresMax: 2, ramMin: 1024, ramMax: 4096}
  # a DEM by name (dem_name) is fetched over the output grid for depth_max (its tiles from
  # the cache when the classify jobs shared it)
  NetworkAccess: {networkAccess: true}
  InlineJavascriptRequirement:
    expressionLib:
      - $include: notebook.js
  InitialWorkDirRequirement:
    listing:
      - entryname: parameters.json
        entry: '$(notebookParameters({out_dir: "frequency"}))'
baseCommand: [s1flood, notebook, run]
arguments:
  - $(inputs.notebook.path)
  - 03-aggregate.ipynb
  - {prefix: --parameters-file, valueFrom: parameters.json}
  - {prefix: --cwl-output, valueFrom: cwl.output.json}
  - --ignore-unknown  # a job file may hold the whole workflow's inputs
inputs:
  notebook: {type: File, label: notebook, doc: "The notebook to run.", default: {class: File, location: ../notebooks/03-aggregate.ipynb}}
  masks: {"type": "File[]", "secondaryFiles": [{"pattern": "^.json", "required": false}], "label": "masks", "doc": "water masks (uint8 0/1/255 GeoTIFFs), or ``@list.txt`` entries naming a file with one mask path per line (relative to that file)."}
  like: {"type": "string?", "label": "like", "doc": "reference raster whose grid the outputs take; default the union of the masks' extents on the first mask's grid."}
  candidate: {"type": "float", "label": "candidate", "doc": "frequency above which a pixel is a flood candidate (0 to 1). Default 0.1.", "default": 0.1}
  permanent: {"type": "float", "label": "permanent", "doc": "frequency from which a pixel is permanent water (0 to 1, above ``candidate``); without ``event_start``, also the share of valid observations in which a pixel is water that makes it reference water. Default 0.9.", "default": 0.9}
  event_start: {"type": "string?", "label": "event_start", "doc": "start of the event, ISO 8601 (UTC unless a zone is given): the observations before it give reference water (water in at least half of them) and are not flood; default none (reference water by ``permanent``)."}
  reference_water: {"type": "string?", "label": "reference_water", "doc": "a reference water raster on any grid, warped nearest (e.g. a JRC Global Surface Water occurrence COG): at or above ``reference_threshold`` reference water; where it has no value the series' rule holds. Default none."}
  reference_threshold: {"type": "float", "label": "reference_threshold", "doc": "the threshold of ``reference_water`` (0.5 for a 0/1 mask, e.g. 50 for an occurrence in percent). Default 0.5.", "default": 0.5}
  dem: {"type": "File?", "label": "dem", "doc": "a staged DEM GeoTIFF covering the AOI, any CRS; or give ``dem_name``."}
  change_db: {"type": "float", "label": "change_db", "doc": "with ``event_start``, water is flood only where its sigma0 is at least this much (dB) darker than the mean of the pre-event scenes of its relative orbit (the sigma0 each mask's sidecar names, where it exists); elsewhere the masks alone decide. Default 3.", "default": 3.0}
  change_rule: {"type": "string", "label": "change_rule", "doc": "``auto`` (that change rule wherever it applies) or ``off`` (the masks alone). Default ``auto``.", "default": "auto"}
  sigma0: {"type": "File[]", "label": "sigma0", "doc": "the sigma0 COGs the masks were classified from, matched by file name to the one each mask's sidecar names (for staged copies, as a workflow's); default none: the paths the sidecars name.", "default": []}
  dem_name: {"type": "string?", "label": "DEM name", "doc": "the DEM by name, when ``dem`` is not given: ``copernicus-30`` / ``copernicus-90``, the Copernicus DEM GLO-30/90 tiles covering the AOI, fetched once into the cache and converted from EGM2008 to ellipsoidal heights. One of ``dem`` and ``dem_name`` is required."}
outputs:
  out_dir: {type: Directory, label: results, doc: "water_count, valid_count, frequency, classes and the flood record COGs (reference_water, flood_extent, flood_count, first_flooded, last_flooded, duration_min_days, duration_max_days, flood_episodes, with a DEM depth_max), classes.png, flooded_area.png, timeseries.csv, summary.json and the STAC catalog (catalog.json)."}
  map: {type: File, label: map, doc: "Quick-look PNG map of the classes, with legend."}
  catalog: {type: File, label: STAC catalog, doc: "STAC catalog of the outputs."}
  executed_notebook: {type: File, label: executed notebook, doc: "The executed notebook, with its scraps."}
