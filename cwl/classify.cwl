#!/usr/bin/env cwl-runner
# Notebook 02-classify as a tool: s1flood notebook run (papermill), scraps -> cwl.output.json.
# Each input is one line; its name, type, default and doc are those of
# s1flood.steps.process_scene (tests/test_50_interfaces.py holds them together;
# scripts/interface_lines.py scene NAME prints the line to add).
cwlVersion: v1.2
class: CommandLineTool
id: classify
label: "Map water in one Sentinel-1 scene (notebook 02-classify)"
doc: |
  Fetch one product (or take a staged .SAFE/.zip), calibrate and terrain-correct it onto the
  AOI's grid, classify water (s1flood.process_scene), by running notebooks/02-classify.ipynb
  with papermill. Outputs the water mask COG (0 dry, 1 water, 255 nodata), its confidence,
  the sigma0 COG, the histogram and the executed notebook. Credentials reach the notebook's
  kernel as environment variables only (cwltool:Secrets).
$namespaces:
  s: https://schema.org/
  cwltool: http://commonwl.org/cwltool#
s:softwareVersion: "0.1.0"
s:codeRepository: https://github.com/s1flood/s1flood
s:license: https://spdx.org/licenses/Apache-2.0
hints:
  DockerRequirement:
    dockerPull: ghcr.io/s1flood/s1flood-classify:0.1.0
  cwltool:Secrets:
    secrets: [cdse_username, cdse_password, earthdata_token]
requirements:
  # measured (benchmarks/bench_scale.py, cwltool's "Max memory used" of the job's process
  # tree, kernel included): 475 to 513 MiB per simulated 1000 x 1000 scene, hence ramMin; a
  # whole full-size IW GRDH scene through the notebook (621 Mpx grid, VV+VH): 3.7 GB peak RSS
  # while preprocessing (1.7 GB of it the memory-mapped measurement files, reclaimable page
  # cache), under 0.8 GB while classifying, hence ramMax; the kernels use 2 cores.
  ResourceRequirement: {coresMin: 1, coresMax: 2, ramMin: 1024, ramMax: 5120}
  NetworkAccess: {networkAccess: true}
  InlineJavascriptRequirement:
    expressionLib:
      - $include: notebook.js
  InitialWorkDirRequirement:
    listing:
      # the DEM is staged into the working folder and named by its basename there: cwltool
      # maps a File that lies inside a staged Directory (sim/dem/dem.tif beside sim/catalog/)
      # to a path it never creates, so the path it gives the job cannot be used
      - $(inputs.dem)
      - entryname: parameters.json
        entry: '$(notebookParameters(inputs.dem ? {out_dir: ".", dem: inputs.dem.basename} : {out_dir: "."}, ["dem"]))'
  EnvVarRequirement:
    envDef:
      S1FLOOD_CDSE_USERNAME: $(inputs.cdse_username)
      S1FLOOD_CDSE_PASSWORD: $(inputs.cdse_password)
      EARTHDATA_TOKEN: $(inputs.earthdata_token)
baseCommand: [s1flood, notebook, run]
arguments:
  - $(inputs.notebook.path)
  - '$("02-classify_" + inputs.product.split("/").pop().replace(/\.(SAFE|zip)$/, "") + ".ipynb")'
  - {prefix: --parameters-file, valueFrom: parameters.json}
  - {prefix: --cwl-output, valueFrom: cwl.output.json}
  - --ignore-unknown  # a job file may hold the whole workflow's inputs
inputs:
  notebook: {type: File, label: notebook, doc: "The notebook to run.", default: {class: File, location: ../notebooks/02-classify.ipynb}}
  cdse_username: {type: string, label: CDSE username, doc: "Copernicus Data Space user (a secret: only the kernel's environment sees it); empty: none.", default: ""}
  cdse_password: {type: string, label: CDSE password, doc: "Copernicus Data Space password (a secret: only the kernel's environment sees it); empty: none.", default: ""}
  earthdata_token: {type: string, label: Earthdata token, doc: "NASA Earthdata bearer token for ASF downloads (a secret: only the kernel's environment sees it); empty: none.", default: ""}
  product: {"type": "string", "label": "product", "doc": "a product name or catalogue id (fetched from ``catalogue``), or the path of a staged ``.SAFE`` folder or ``.zip``."}
  aoi: {"type": "string", "label": "aoi", "doc": "area of interest, a WKT polygon in lon/lat (EPSG:4326)."}
  dem: {"type": "File?", "label": "dem", "doc": "a staged DEM GeoTIFF covering the AOI, any CRS; or give ``dem_name``."}
  dem_name: {"type": "string?", "label": "DEM name", "doc": "the DEM by name, when ``dem`` is not given: ``copernicus-30`` / ``copernicus-90``, the Copernicus DEM GLO-30/90 tiles covering the AOI, fetched once into the cache and converted from EGM2008 to ellipsoidal heights. One of ``dem`` and ``dem_name`` is required."}
  catalogue: {"type": "Directory?", "label": "catalogue", "doc": "a staged folder with a static STAC catalog to fetch a named product from; or give ``catalogue_name``; neither: ``product`` is a path."}
  catalogue_name: {"type": "string?", "label": "catalogue name", "doc": "the catalogue by name to fetch a named product from, when ``catalogue`` is not given (see ``catalogue_name`` of discover); neither: ``product`` is a path."}
  engine: {"type": "string", "label": "engine", "doc": "``python`` (xarray-sentinel reading, own terrain correction) or ``snap`` (SNAP's gpt). Default ``python``.", "default": "python"}
  polarisation: {"type": "string", "label": "polarisation", "doc": "VV, VH, HH or HV, or a pair (``VV+VH``, ``HH+HV``): both calibrated and terrain-corrected in one pass into a two-band COG (band descriptions VV, VH); a product holding only one of the pair gives that one (a warning says so). Default ``VV+VH``.", "default": "VV+VH"}
  resolution: {"type": "float", "label": "resolution", "doc": "pixel size of the target grid, metres. Default 10.", "default": 10.0}
  crs: {"type": "string?", "label": "crs", "doc": "target CRS (EPSG code, WKT or PROJ text); default the UTM zone of the AOI centroid."}
  orbit: {"type": "string?", "label": "orbit", "doc": "precise orbit file (EOF) or a folder of them; or ``auto``: the POEORB (else RESORB) file covering the acquisition, fetched once into the cache, the annotation orbit when offline; default the annotation orbit."}
  speckle: {"type": "string", "label": "speckle", "doc": "speckle filter: ``lee``, ``refined-lee`` or ``none``. Default ``lee``.", "default": "lee"}
  window: {"type": "int", "label": "window", "doc": "speckle filter window, odd number of pixels (3 to 31). Default 5.", "default": 5}
  rtc: {"type": "boolean", "label": "rtc", "doc": "terrain-flattened gamma0 instead of sigma0. Default false.", "default": false}
  dem_vertical: {"type": "string", "label": "dem_vertical", "doc": "DEM heights: ``auto`` (geoid only if the CRS says so), ``egm96`` (SRTM, Copernicus DEM) or ``ellipsoid``. Default ``auto``.", "default": "auto"}
  band: {"type": "string", "label": "band", "doc": "band to classify: ``auto`` (both polarisations of a two-band VV+VH or HH+HV raster, else band 1; default), a 1-based index or a band description such as ``VV``, or two joined by a comma (``VV,VH``): each band's own threshold, then their mean water membership.", "default": "auto"}
  units: {"type": "string", "label": "units", "doc": "units of the input values: ``auto`` (from the band's metadata, else its values), ``linear`` or ``db``. Default ``auto``.", "default": "auto"}
  method: {"type": "string", "label": "method", "doc": "``split`` (Otsu of the tiles showing water and land; default), ``split-ki`` (Kittler-Illingworth on those tiles), ``otsu`` or ``multiotsu``.", "default": "split"}
  tile_size: {"type": "int", "label": "tile_size", "doc": "tile side of the ``split`` methods in pixels. Default 32.", "default": 32}
  smoothing: {"type": "int", "label": "smoothing", "doc": "odd box size (pixels) of a dB mean against speckle; 0 for none. Default 5.", "default": 5}
  refine: {"type": "int", "label": "refine", "doc": "odd box size (pixels) within which water grows from seeds (pixels below the water class mean); 0 for none. Default 15.", "default": 15}
  classes: {"type": "int", "label": "classes", "doc": "Multi-Otsu classes for ``multiotsu`` (2 to 5). Default 3.", "default": 3}
  threshold_db: {"type": "float", "label": "threshold_db", "doc": "a fixed water threshold in dB instead of the method; 0 (default): none, the method finds it.", "default": 0.0}
  reference: {"type": "string?", "label": "reference", "doc": "a pre-event or dry-season backscatter raster on the same grid; pixels darker by more than ``change_db`` join water and the change COG. Default none."}
  change_db: {"type": "float", "label": "change_db", "doc": "decrease in dB that marks new water against ``reference``. Default 3.", "default": 3.0}
  exclusion: {"type": "string?", "label": "exclusion", "doc": "a raster whose non-zero pixels become nodata (e.g. radar shadow/layover). Default none."}
  terrain_exclusion: {"type": "boolean", "label": "terrain_exclusion", "doc": "also give the DEM to `classify` (when it is a file), so that pixels high above the drainage or on steep slopes are nodata, not dry. Default true.", "default": true}
  hand_max_m: {"type": "float", "label": "hand_max_m", "doc": "height above nearest drainage limit with ``dem`` (m). Default 15.", "default": 15.0}
  slope_max_deg: {"type": "float", "label": "slope_max_deg", "doc": "slope limit with ``dem`` (degrees). Default 10.", "default": 10.0}
  allow_unimodal: {"type": "boolean", "label": "allow_unimodal", "doc": "with ``multiotsu``, threshold even when no distinct water population shows. Default false.", "default": false}
  settings: {"type": "string[]", "label": "settings", "doc": "discovery settings as ``KEY=VALUE`` (see `discover`).", "default": []}
  read: {"type": "string", "label": "read", "doc": "how a named product is fetched: ``auto`` (only the bytes the AOI needs, wherever the catalogue serves byte ranges, else the whole product), ``aoi`` or ``whole`` (see `fetch`). Default ``auto``.", "default": "auto"}
outputs:
  mask: {type: File, label: water mask, doc: "Water mask COG: 0 dry, 1 water, 255 nodata; its sidecar (thresholds, method, path taken) as a secondary file.", secondaryFiles: [{pattern: "^.json", required: false}]}
  confidence: {type: "File?", label: confidence, doc: "Confidence COG of the water mask, when the method gives one."}
  sigma0: {type: File, label: sigma0, doc: "Calibrated, terrain-corrected backscatter COG (dB) on the AOI's grid."}
  histogram: {type: File, label: histogram, doc: "Histogram PNG with the thresholds."}
  thresholds_db: {type: "float[]", label: thresholds, doc: "Thresholds found, dB; water is below the first."}
  threshold_method: {type: string, label: threshold method, doc: "The method that found the thresholds (split, otsu, multiotsu, fixed, ...)."}
  path_taken: {type: "string?", label: path taken, doc: "How the scene was classified: split, prior (low confidence) or no-water, and the sidecar says why."}
  water_area_km2: {type: float, label: water area, doc: "Water area in the scene, km²."}
  executed_notebook: {type: File, label: executed notebook, doc: "The executed notebook, with its scraps."}
