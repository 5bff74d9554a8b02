# File stage-in for the offline ADES tests: copies the file a file:// URI names.
cwlVersion: v1.2
class: CommandLineTool
id: stage-in-file
label: Stage in a file (local copy)
doc: Copies the file a file URI names into the job's output folder.
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
    shutil.copyfile(urllib.parse.unquote(url.path), sys.argv[1].rstrip("/").rsplit("/", 1)[-1])
  - $(inputs.reference.value)
inputs:
  reference: {type: "@SCHEMA@#URI", label: reference, doc: "The file to stage in (a file URI)."}
outputs:
  staged:
    type: File
    label: staged
    doc: The staged file.
    outputBinding: {glob: '$(inputs.reference.value.replace(/\/$/, "").split("/").pop())'}
