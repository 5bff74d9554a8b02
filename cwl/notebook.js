// The notebook's parameters from the tool's inputs, as the JSON file the runner reads:
// every input but the notebook itself and the credentials (those reach the tool only as
// environment variables, never a file, a command line or the executed notebook).
// A staged input and its sibling naming the same thing by a string (catalogue /
// catalogue_name, dem / dem_name) are one notebook parameter: the staged one when given,
// else the name; `required` lists those the step cannot do without: given neither, they are
// empty, and the step refuses them in one line.
var NAMED = {catalogue_name: "catalogue", dem_name: "dem"};
function notebookParameters(fixed, required) {
  var skip = ["notebook", "cdse_username", "cdse_password", "earthdata_token"];
  var out = {};
  var name;
  for (name in inputs) {
    if (skip.indexOf(name) < 0 && !(name in NAMED)) { out[name] = inputs[name]; }
  }
  for (name in NAMED) {
    if (name in inputs && (out[NAMED[name]] === null || out[NAMED[name]] === undefined)) {
      out[NAMED[name]] = inputs[name];
    }
  }
  (required || []).forEach(function (key) {
    if (out[key] === null || out[key] === undefined) { out[key] = ""; }
  });
  for (var key in fixed) { out[key] = fixed[key]; }
  return JSON.stringify(out, null, 1);
}
