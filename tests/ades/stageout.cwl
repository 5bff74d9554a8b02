# Directory stage-out for the offline ADES tests: copies the results folder under
# stage_out_root/sub_path (the "bucket") and writes there the catalog an ADES hands back, a
# Catalog with one Collection (named by the job's sub_path) of every Item of the results'
# catalog, as the chart's S3 stage-out does. Its output is the URI of that catalog.
cwlVersion: v1.2
class: CommandLineTool
id: stage-out-directory
label: Stage out a STAC catalog folder (local copy)
doc: Copies a folder holding a STAC catalog to a local bucket folder; a Collection of its Items.
requirements:
  InlineJavascriptRequirement: {}
  SchemaDefRequirement:
    types:
      - $import: "@SCHEMA@"
  InitialWorkDirRequirement:
    listing:
      - entryname: stage_out.py
        entry: |
          import json, shutil, sys
          from pathlib import Path
          import pystac
          source, root, sub_path = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
          target = root / sub_path
          shutil.copytree(source, target / "data")
          catalog = pystac.Catalog.from_file(str(target / "data" / "catalog.json"))
          items = [item.clone() for item in catalog.get_all_items()]
          for item in items:
              for asset in item.assets.values():
                  asset.href = asset.get_absolute_href()
          boxes = [item.bbox for item in items if item.bbox]
          bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes),
                  max(b[2] for b in boxes), max(b[3] for b in boxes)]
          times = [t for item in items for t in (item.common_metadata.start_datetime,
                   item.common_metadata.end_datetime, item.datetime) if t is not None]
          collection = pystac.Collection(sub_path, f"results of {sub_path}", pystac.Extent(
              pystac.SpatialExtent([bbox]), pystac.TemporalExtent([[min(times), max(times)]])))
          collection.add_items(items)
          out = pystac.Catalog("catalog", f"staged out results of {sub_path}")
          out.add_child(collection)
          out.normalize_hrefs(str(target))
          out.save(pystac.CatalogType.ABSOLUTE_PUBLISHED)
          uri = (target / "catalog.json").resolve().as_uri()
          Path("cwl.output.json").write_text(json.dumps({"catalog": {"value": uri}}))
baseCommand: [python3, stage_out.py]
arguments: [$(inputs.results.path), $(inputs.stage_out_root), $(inputs.sub_path)]
inputs:
  results: {type: Directory, label: results, doc: The folder holding a STAC catalog.}
  stage_out_root: {type: string, label: bucket, doc: The local folder standing for the bucket.}
  sub_path: {type: string, label: sub path, doc: The job's folder in the bucket.}
outputs:
  catalog: {type: "@SCHEMA@#URI", label: catalog, doc: The staged-out catalog's URI.}
