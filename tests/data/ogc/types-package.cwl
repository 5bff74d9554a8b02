cwlVersion: v1.2
$namespaces:
  s: https://schema.org/
s:softwareVersion: 0.1.0
$graph:
  - class: Workflow
    id: s1flood-types
    label: Types (tests)
    doc: Writes its arguments to a JSON file at once; the process schemathesis calls with generated inputs.
    inputs:
      text: {type: string, label: text, doc: any text.}
      times: {type: "int?", label: times, doc: an optional integer.}
      ratio: {type: float, default: 0.5, label: ratio, doc: a number.}
      flag: {type: boolean, default: false, label: flag, doc: a switch.}
      kind: {type: {type: enum, symbols: [a, b]}, default: a, label: kind, doc: one of two words.}
      words: {type: "string[]?", label: words, doc: an optional list of words.}
    outputs:
      arguments:
        type: File
        label: arguments
        doc: the arguments the tool received, as JSON.
        outputSource: write/arguments
    steps:
      write:
        run: "#types-tool"
        in: {text: text, times: times, ratio: ratio, flag: flag, kind: kind, words: words}
        out: [arguments]
  - class: CommandLineTool
    id: types-tool
    baseCommand: [python3, -c, "import json, sys; json.dump(sys.argv[1:], open('arguments.json', 'w'))"]
    inputs:
      text: {type: string, inputBinding: {position: 1, prefix: --text}}
      times: {type: "int?", inputBinding: {position: 2, prefix: --times}}
      ratio: {type: float, inputBinding: {position: 3, prefix: --ratio}}
      flag: {type: boolean, inputBinding: {position: 4, prefix: --flag}}
      kind: {type: {type: enum, symbols: [a, b]}, inputBinding: {position: 5, prefix: --kind}}
      words: {type: "string[]?", inputBinding: {position: 6, prefix: --words}}
    outputs:
      arguments:
        type: File
        outputBinding: {glob: arguments.json}
