cwlVersion: v1.2
$namespaces:
  s: https://schema.org/
s:softwareVersion: 0.1.0
s:name: s1flood-echo
$graph:
  - class: Workflow
    id: s1flood-echo
    label: Echo (a cheap process for tests)
    doc: Writes the message to a file after sleeping; the test suite's cheap process.
    requirements:
      StepInputExpressionRequirement: {}
    inputs:
      message:
        type: string
        label: message
        doc: the text to write.
      seconds:
        type: float
        default: 0.0
        label: seconds
        doc: how long to sleep first (at most 30 s).
      copies:
        type: int?
        label: copies
        doc: how many times to write the message (at most 3); default 1.
    outputs:
      result:
        type: File
        label: result
        doc: the file holding the message.
        outputSource: echo/result
    steps:
      echo:
        run: "#echo-tool"
        in:
          message: message
          seconds: seconds
          copies: copies
        out: [result]
  - class: CommandLineTool
    id: echo-tool
    label: echo tool
    doc: sleeps, then writes the message.
    baseCommand: [python3, -c]
    arguments:
      - "import sys, time; time.sleep(max(0.0, min(float(sys.argv[2]), 30.0))); open('result.txt', 'w').write((sys.argv[1] + '\\n') * max(0, min(int(sys.argv[3]), 3)))"
    inputs:
      message:
        type: string
        inputBinding: {position: 1}
      seconds:
        type: float
        inputBinding: {position: 2}
      copies:
        type: int?
        default: 1
        inputBinding: {position: 3}
    outputs:
      result:
        type: File
        outputBinding: {glob: result.txt}
