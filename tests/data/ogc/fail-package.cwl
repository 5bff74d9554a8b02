cwlVersion: v1.2
$namespaces:
  s: https://schema.org/
s:softwareVersion: 0.1.0
$graph:
  - class: Workflow
    id: s1flood-fail
    label: Fail (tests)
    doc: Fails after writing the catalogue password it was given to its log; tests that the server redacts it.
    inputs:
      reason:
        type: string
        default: asked to fail
        label: reason
        doc: the message to fail with.
    outputs:
      never:
        type: File
        label: never
        doc: not written.
        outputSource: fail/never
    steps:
      fail:
        run: "#fail-tool"
        in: {reason: reason}
        out: [never]
  - class: CommandLineTool
    id: fail-tool
    baseCommand: [python3, -c]
    arguments:
      - "import os, sys; sys.stderr.write('s1flood: error: ' + sys.argv[1] + ' (password ' + os.environ.get('S1FLOOD_CDSE_PASSWORD', 'unset') + ')\\n'); sys.exit(3)"
    inputs:
      reason:
        type: string
        inputBinding: {position: 1}
    outputs:
      never:
        type: File
        outputBinding: {glob: never.txt}
