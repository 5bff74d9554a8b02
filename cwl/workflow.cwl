#!/usr/bin/env cwl-runner
# discover -> classify (scattered over the identifiers) -> aggregate, each a notebook tool;
# results gathers their files under one STAC catalog (the one folder an ADES stages out).
# Every input's name, type, default and doc are those of the step function it goes to
# (s1flood.steps.discover / process_scene / aggregate; tests/test_50_interfaces.py).
# Adding a step parameter: one input line here, one `in:` line in the step, one line in the tool.
cwlVersion: v1.2
class: Workflow
id: s1flood-water-frequency
label: "Sentinel-1 flood mapping: discover, classify each scene, aggregate water frequency"
doc: |
  Finds the Sentinel-1 GRD scenes covering an area of interest in a time window, maps water
  in each scene (fetch, calibrate, terrain-correct, classify; one job per scene, in parallel
  where the runner can) and aggregates the masks into water frequency (water / valid
  observations) and classes: permanent water, flood candidate, dry. Each step runs one of the
  project's notebooks with papermill. The one folder output, results, holds all of it (Cloud
  Optimized GeoTIFFs, the PNG map, the per-scene masks, the executed notebooks) under one STAC
  catalog; the product identifiers and the scene count are plain values.
$namespaces:
  s: https://schema.org/
  cwltool: http://commonwl.org/cwltool#
s:softwareVersion: "0.1.0"
s:codeRepository: https://github.com/s1flood/s1flood
s:license: https://spdx.org/licenses/Apache-2.0
s:keywords: [Sentinel-1, SAR, flood, water, CWL, notebook]
hints:
  cwltool:Secrets:
    secrets: [cdse_username, cdse_password, earthdata_token]
requirements:
  ScatterFeatureRequirement: {}
  InlineJavascriptRequirement: {}
  StepInputExpressionRequirement: {}
inputs:
  # discover (s1flood.steps.discover)
  aoi: {"type": "string", "label": "aoi", "doc": "area of interest, a WKT polygon in lon/lat (EPSG:4326)."}
  start: {"type": "string", "label": "start", "doc": "start of the time window, ISO 8601 (UTC unless an offset is given)."}
  end: {"type": "string", "label": "end", "doc": "end of the time window, ISO 8601; after ``start``."}
  catalogue: {"type": "Directory?", "label": "catalogue", "doc": "a staged folder holding a static STAC catalog (``catalog.json``, or ``catalog/catalog.json``) and the products its Items point to; or give ``catalogue_name``."}
  catalogue_name: {"type": "string?", "label": "catalogue name", "doc": "the catalogue by name, when ``catalogue`` is not given: ``cdse`` (Copernicus Data Space OData), ``stac:URL`` (or ``stac:cdse``, ``stac:planetary-computer``, ``stac:earth-search``), ``asf`` or ``dhus:URL``. One of ``catalogue`` and ``catalogue_name`` is required."}
  mode: {"type": "string", "label": "mode", "doc": "acquisition mode. Default ``IW``.", "default": "IW"}
  product_type: {"type": "string", "label": "product_type", "doc": "product type. Default ``GRD``.", "default": "GRD"}
  orbit_direction: {"type": "string?", "label": "orbit_direction", "doc": "``ascending`` or ``descending``; default both."}
  relative_orbit: {"type": "int", "label": "relative_orbit", "doc": "relative orbit number, 1 to 175; 0 (default): any.", "default": 0}
  min_coverage: {"type": "float", "label": "min_coverage", "doc": "fraction of the AOI (0 to 1) a scene must cover. Default 0.", "default": 0.0}
  settings: {"type": "string[]", "label": "settings", "doc": "discovery settings as ``KEY=VALUE`` (e.g. ``dhus_url=...``, ``asf_url=...``, ``trusted_hosts=...``); also ``S1FLOOD_<KEY>`` or ``[discovery]`` in the configuration file.", "default": []}
  read: {"type": "string", "label": "read", "doc": "how a named product is fetched: ``auto`` (only the bytes the AOI needs, wherever the catalogue serves byte ranges, else the whole product), ``aoi`` or ``whole`` (see `fetch`). Default ``auto``.", "default": "auto"}
  odata_url: {"type": "string?", "label": "odata_url", "doc": "CDSE OData base URL (default: the configured one)."}
  token_url: {"type": "string?", "label": "token_url", "doc": "token endpoint URL (default: the configured one)."}
  stac_collection: {"type": "string?", "label": "stac_collection", "doc": "STAC collection id (default: the configured one)."}
  # classify (s1flood.steps.process_scene; the product comes from discover; polarisation
  # also makes discover keep only the scenes that have it)
  dem: {"type": "File?", "label": "dem", "doc": "a staged DEM GeoTIFF covering the AOI, any CRS; or give ``dem_name``."}
  dem_name: {"type": "string?", "label": "DEM name", "doc": "the DEM by name, when ``dem`` is not given: ``copernicus-30`` / ``copernicus-90``, the Copernicus DEM GLO-30/90 tiles covering the AOI, fetched once into the cache and converted from EGM2008 to ellipsoidal heights. One of ``dem`` and ``dem_name`` is required."}
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
  change_rule: {"type": "string", "label": "change_rule", "doc": "``auto`` (that change rule wherever it applies) or ``off`` (the masks alone). Default ``auto``.", "default": "auto"}
  exclusion: {"type": "string?", "label": "exclusion", "doc": "a raster whose non-zero pixels become nodata (e.g. radar shadow/layover). Default none."}
  terrain_exclusion: {"type": "boolean", "label": "terrain_exclusion", "doc": "also give the DEM to `classify` (when it is a file), so that pixels high above the drainage or on steep slopes are nodata, not dry. Default true.", "default": true}
  hand_max_m: {"type": "float", "label": "hand_max_m", "doc": "height above nearest drainage limit with ``dem`` (m). Default 15.", "default": 15.0}
  slope_max_deg: {"type": "float", "label": "slope_max_deg", "doc": "slope limit with ``dem`` (degrees). Default 10.", "default": 10.0}
  allow_unimodal: {"type": "boolean", "label": "allow_unimodal", "doc": "with ``multiotsu``, threshold even when no distinct water population shows. Default false.", "default": false}
  # aggregate (s1flood.steps.aggregate; the masks come from classify)
  like: {"type": "string?", "label": "like", "doc": "reference raster whose grid the outputs take; default the union of the masks' extents on the first mask's grid."}
  candidate: {"type": "float", "label": "candidate", "doc": "frequency above which a pixel is a flood candidate (0 to 1). Default 0.1.", "default": 0.1}
  permanent: {"type": "float", "label": "permanent", "doc": "frequency from which a pixel is permanent water (0 to 1, above ``candidate``); without ``event_start``, also the share of valid observations in which a pixel is water that makes it reference water. Default 0.9.", "default": 0.9}
  event_start: {"type": "string?", "label": "event_start", "doc": "start of the event, ISO 8601 (UTC unless a zone is given): the observations before it give reference water (water in at least half of them) and are not flood; default none (reference water by ``permanent``)."}
  reference_water: {"type": "string?", "label": "reference_water", "doc": "a reference water raster on any grid, warped nearest (e.g. a JRC Global Surface Water occurrence COG): at or above ``reference_threshold`` reference water; where it has no value the series' rule holds. Default none."}
  reference_threshold: {"type": "float", "label": "reference_threshold", "doc": "the threshold of ``reference_water`` (0.5 for a 0/1 mask, e.g. 50 for an occurrence in percent). Default 0.5.", "default": 0.5}
  # credentials: secrets, only ever in the classify jobs' environment
  cdse_username: {type: string, label: CDSE username, doc: "Copernicus Data Space user (a secret: only the kernel's environment sees it); empty: none.", default: ""}
  cdse_password: {type: string, label: CDSE password, doc: "Copernicus Data Space password (a secret: only the kernel's environment sees it); empty: none.", default: ""}
  earthdata_token: {type: string, label: Earthdata token, doc: "NASA Earthdata bearer token for ASF downloads (a secret: only the kernel's environment sees it); empty: none.", default: ""}
steps:
  discover:
    label: "Find the scenes (notebook 01-discover)"
    doc: "Lists the Sentinel-1 GRD products covering the AOI in the time window, in time order."
    run: discover.cwl
    in:
      aoi: aoi
      start: start
      end: end
      catalogue: catalogue
      catalogue_name: catalogue_name
      mode: mode
      product_type: product_type
      polarisation: polarisation
      orbit_direction: orbit_direction
      relative_orbit: relative_orbit
      min_coverage: min_coverage
      settings: settings
      odata_url: odata_url
      token_url: token_url
      stac_collection: stac_collection
    out: [identifiers, executed_notebook]
  classify:
    label: "Map water in each scene (notebook 02-classify)"
    doc: "One job per product found: fetch, calibrate, terrain-correct and classify it into a water mask."
    run: classify.cwl
    scatter: product
    in:
      product: discover/identifiers
      aoi: aoi
      catalogue: catalogue
      catalogue_name: catalogue_name
      settings: settings
      read: read
      dem: dem
      dem_name: dem_name
      engine: engine
      polarisation: polarisation
      resolution: resolution
      crs: crs
      orbit: orbit
      speckle: speckle
      window: window
      rtc: rtc
      dem_vertical: dem_vertical
      band: band
      units: units
      method: method
      tile_size: tile_size
      smoothing: smoothing
      refine: refine
      classes: classes
      threshold_db: threshold_db
      reference: reference
      change_db: change_db
      exclusion: exclusion
      terrain_exclusion: terrain_exclusion
      hand_max_m: hand_max_m
      slope_max_deg: slope_max_deg
      allow_unimodal: allow_unimodal
      cdse_username: cdse_username
      cdse_password: cdse_password
      earthdata_token: earthdata_token
    out: [mask, sigma0, histogram, executed_notebook]
  aggregate:
    label: "Aggregate the masks (notebook 03-aggregate)"
    doc: "Water frequency, classes, counts and the flood record from every scene's mask; the PNG map and summary."
    run: aggregate.cwl
    in:
      masks: classify/mask
      like: like
      candidate: candidate
      permanent: permanent
      event_start: event_start
      reference_water: reference_water
      reference_threshold: reference_threshold
      dem: dem
      change_db: change_db
      change_rule: change_rule
      sigma0: classify/sigma0
      dem_name: dem_name
    out: [out_dir, executed_notebook]
  gather:
    label: "Gather the results under one STAC catalog"
    doc: "Every file of the run (the aggregation's, each scene's, the executed notebooks) in one folder with a self-contained STAC catalog: what is staged out."
    run: results.cwl
    in:
      aggregation: aggregate/out_dir
      masks: classify/mask
      histograms: classify/histogram
      scene_notebooks: classify/executed_notebook
      discover_notebook: discover/executed_notebook
      aggregate_notebook: aggregate/executed_notebook
    out: [results, scene_count]
outputs:
  results: {type: Directory, label: results, doc: "Everything the run made, in one folder with one self-contained STAC catalog (catalog.json): the aggregation's Item (water frequency, classes and counts COGs, classes.png map, summary.json, the executed discover and aggregate notebooks) under frequency/ and notebooks/, one Item per scene (water mask, its sidecar and histogram, the executed classification notebook) under scenes/<product>/.", outputSource: gather/results}
  identifiers: {type: "string[]", label: identifiers, doc: "The products found and mapped.", outputSource: discover/identifiers}
  scene_count: {type: int, label: scene count, doc: "Number of water masks aggregated.", outputSource: gather/scene_count}
