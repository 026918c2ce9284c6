'use strict';
// plotly.js for riskapp's report images: the core (scatter) and the trace types report charts draw
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/waterfall'),
    require('plotly.js/lib/choropleth'),
    require('plotly.js/lib/scattergeo'),
    require('plotly.js/lib/treemap'),
]);
module.exports = Plotly;
