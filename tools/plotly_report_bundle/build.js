// Builds riskapp/reporting/vendor/plotly-report.min.js: plotly.js with only the trace types
// the report's charts draw (see README.md beside this file). Run from this folder after
// `npm install --ignore-scripts plotly.js@VERSION esbuild@0.28.2`.
const fs = require('fs');
const path = require('path');
const version = require('plotly.js/package.json').version;
const out = path.resolve(__dirname, '../../riskapp/reporting/vendor/plotly-report.min.js');
require('esbuild')
  .build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: out,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'eof',
    // as plotly.js's own esbuild-config.js
    alias: { stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    target: 'es2016',
    logLevel: 'warning',
    banner: {
      js:
        `/**\n* plotly.js v${version}\n* riskapp report bundle: core (scatter), bar, heatmap, ` +
        'waterfall, choropleth, scattergeo, treemap\n* Copyright 2012-2026, Plotly, Inc.\n' +
        '* Licensed under the MIT license\n*/',
    },
  })
  .then(() => {
    // esbuild writes the CSS plotly.js's registry imports (maplibre's, for the map traces this
    // bundle leaves out) beside it: not used
    fs.rmSync(out.replace(/\.js$/, '.css'), { force: true });
  })
  .then(() => console.log(`wrote ${out} (plotly.js ${version}, ${fs.statSync(out).size} bytes)`))
  .catch(() => process.exit(1));
