# Directory stage-in for the offline ADES tests: copies the folder a file:// URI names (the
# chart's own stage-in pulls a STAC catalog from S3/HTTP with stac-asset in a container).
# @SCHEMA@ is the 127.0.0.1 address of tests/ades/string_format.yaml.
cwlVersion: v1.2
class: CommandLineTool
id: stage-in-directory
label: Stage in a folder (local copy)
doc: Copies the folder a file URI names into the job's output folder.
requirements:
  InlineJavascriptRequirement: {}
  SchemaDefRequirement:
    types:
      - $import: "@SCHEMA@"
baseCommand: [python3, -c]
arguments:
  - |
    import shutil, sys, urllib.parse
    url = urllib.parse.urlparse(sys.argv[1])
    if url.scheme not in ("", "file"):
        sys.exit(f"stage-in: not a local URI: {sys.argv[1]}")
    shutil.copytree(urllib.parse.unquote(url.path), "staged")
  - $(inputs.reference.value)
inputs:
  reference: {type: "@SCHEMA@#URI", label: reference, doc: "The folder to stage in (a file URI)."}
outputs:
  staged: {type: Directory, label: staged, doc: The staged folder., outputBinding: {glob: staged}}
