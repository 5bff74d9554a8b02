#!/usr/bin/env cwl-runner
# The run's outputs in one folder with one STAC catalog (s1flood results): what an ADES stages
# out (a Directory holding a catalog) and what a user downloads.
cwlVersion: v1.2
class: CommandLineTool
id: results
label: "Gather the results: one folder, one STAC catalog (s1flood results)"
doc: |
  Puts every file the aggregation wrote (whatever its folder holds: COGs, map, summary), each
  scene's water mask with its sidecar and histogram, and the executed notebooks into one
  folder, with a self-contained STAC catalog: one Item for the aggregation, one per scene,
  every file an asset with its media type and roles (s1flood.results_catalog).
$namespaces:
  s: https://schema.org/
s:softwareVersion: "0.1.0"
s:codeRepository: https://github.com/s1flood/s1flood
s:license: https://spdx.org/licenses/Apache-2.0
hints:
  DockerRequirement:
    dockerPull: ghcr.io/s1flood/s1flood-aggregate:0.1.0
requirements:
  # hard links (else copies) and a few JSON files
  ResourceRequirement: {coresMin: 1, coresMax: 1, ramMin: 256, ramMax: 1024}
  NetworkAccess: {networkAccess: false}
baseCommand: [s1flood, results]
arguments:
  - results
  - {prefix: --cwl-output, valueFrom: cwl.output.json}
inputs:
  aggregation: {type: Directory, label: aggregation, doc: "The aggregation's output folder.", inputBinding: {prefix: --aggregation}}
  masks:
    type: {type: array, items: File, inputBinding: {prefix: --mask}}
    label: water masks
    doc: "The scenes' water masks, each with its sidecar (``<product>_water.json``) when there is one."
    secondaryFiles: [{pattern: "^.json", required: false}]
  histograms:
    type: {type: array, items: File, inputBinding: {prefix: --scene-file}}
    label: histograms
    doc: "The scenes' histogram PNGs."
  scene_notebooks:
    type: {type: array, items: File, inputBinding: {prefix: --scene-notebook}}
    label: classification notebooks
    doc: "The executed classification notebooks, in the masks' order."
  discover_notebook: {type: File, label: discover notebook, doc: "The executed discovery notebook.", inputBinding: {prefix: --notebook}}
  aggregate_notebook: {type: File, label: aggregate notebook, doc: "The executed aggregation notebook.", inputBinding: {prefix: --notebook}}
outputs:
  results: {type: Directory, label: results, doc: "The results folder: catalog.json, frequency/, scenes/<product>/, notebooks/."}
  scene_count: {type: int, label: scene count, doc: "Number of water masks aggregated."}
