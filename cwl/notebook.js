// The notebook's parameters from the tool's inputs, as the JSON file the runner reads:
// every input but the notebook itself and the credentials (those reach the tool only as
// environment variables, never a file, a command line or the executed notebook).
function notebookParameters(fixed) {
  var skip = ["notebook", "cdse_username", "cdse_password", "earthdata_token"];
  var out = {};
  for (var name in inputs) {
    if (skip.indexOf(name) < 0) { out[name] = inputs[name]; }
  }
  for (var key in fixed) { out[key] = fixed[key]; }
  return JSON.stringify(out, null, 1);
}
