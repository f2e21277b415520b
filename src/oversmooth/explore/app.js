/* The explorer's controls and views: every input event recomputes OS.theory.curves and redraws. */
(function (OS) {
  'use strict';
  var T = OS.theory, PL = OS.plot, D = OS.data;
  var $ = function (id) { return document.getElementById(id); };
  var COL = {paper: '#2f6db5', ours: '#d1495b', cat: '#2e9e6a', bound: '#8a8f98', ppr: '#7b4fb8', meas: '#1b1f24',
    real: '#e89f2a', gcn: '#b8bcc4'};

  var N_VALUES = [100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000];
  var C_VALUES = [1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000];
  var PQ_VALUES = [];  // 1e-5 .. 1, ten steps a decade (mantissas 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5)
  for (var e = -5; e < 0; e++) [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5].forEach(function (m) { PQ_VALUES.push(+(m * Math.pow(10, e)).toPrecision(3)); });
  PQ_VALUES.push(1);
  var SLIDERS = {
    n: {label: 'N (nodes)', min: 0, max: N_VALUES.length - 1, value: function (k) { return N_VALUES[k]; }},
    lam: {label: '\u03bb = (p \u2212 q)/(p + q)', min: -19, max: 19, value: function (k) { return k / 20; }},
    c: {label: 'c = (N/2)(p + q), mean neighbours', min: 0, max: C_VALUES.length - 1, value: function (k) { return C_VALUES[k]; }},
    p: {label: 'p (within blocks)', min: 0, max: PQ_VALUES.length - 1, value: function (k) { return PQ_VALUES[k]; }},
    q: {label: 'q (across blocks)', min: 0, max: PQ_VALUES.length - 1, value: function (k) { return PQ_VALUES[k]; }},
    sigma: {label: '\u03c3 (feature noise)', min: 1, max: 80, value: function (k) { return k / 20; }},
    alpha: {label: '\u03b1 (APPNP teleport)', min: 1, max: 99, value: function (k) { return k / 100; }},
    depth: {label: 'depth range (layers shown)', min: 4, max: 64, value: function (k) { return k; }}
  };
  var state = {op: 'gcn', mode: 'lamc', loops: true, pin: null, k: {n: 5, lam: 10, c: 8, p: 0, q: 0, sigma: 20, alpha: 10, depth: 24}};

  function nearest(spec, v) {
    var best = spec.min, bd = Infinity;
    for (var k = spec.min; k <= spec.max; k++) {
      var dd = Math.abs(Math.log(Math.abs(spec.value(k)) + 1e-12) - Math.log(Math.abs(v) + 1e-12)) + (Math.sign(spec.value(k)) !== Math.sign(v) ? 100 : 0);
      if (dd < bd) { bd = dd; best = k; }
    }
    return best;
  }
  function val(name) { return SLIDERS[name].value(state.k[name]); }
  function params() {
    var pin = state.pin;
    if (pin) return {n: pin.n, p: pin.p, q: pin.q, sigma: pin.sigma, operator: state.op,
      alpha: pin.alpha !== null ? pin.alpha : val('alpha'), self_loops: state.loops, depth: val('depth'), gap0: 2.0};
    var n = val('n'), p, q;
    if (state.mode === 'lamc') { var pq = T.csbmPQ(n, val('c'), val('lam')); p = pq[0]; q = pq[1]; }
    else { p = val('p'); q = val('q'); }
    return {n: n, p: p, q: q, sigma: val('sigma'), operator: state.op, alpha: val('alpha'), self_loops: state.loops,
      depth: val('depth'), gap0: 2.0};
  }
  OS.params = params;

  // ---------------- controls ----------------
  function slider(name) {
    var sp = SLIDERS[name];
    return '<div class="ctl" id="ctl-' + name + '"><label for="s-' + name + '">' + sp.label +
      '<output id="o-' + name + '"></output></label><input type="range" id="s-' + name + '" min="' + sp.min +
      '" max="' + sp.max + '" step="1" value="' + state.k[name] + '"></div>';
  }
  function radios(name, opts) {
    return '<div class="seg" role="radiogroup">' + opts.map(function (o) {
      return '<label><input type="radio" name="' + name + '" value="' + o[0] + '"' + (o[0] === state[name] ? ' checked' : '') +
        '><span>' + o[1] + '</span></label>';
    }).join('') + '</div>';
  }
  function buildControls() {
    var h = '<h2>Operator</h2>' + radios('op', [['gcn', 'GCN D\u207b\u00b9A'], ['appnp', 'APPNP'], ['corrected', 'corrected']]);
    h += '<h2>Graph (two-block CSBM)</h2>' + radios('mode', [['lamc', '\u03bb and degree'], ['pq', 'p and q']]);
    h += slider('n') + '<div id="g-lamc">' + slider('lam') + slider('c') + '</div><div id="g-pq">' + slider('p') + slider('q') + '</div>';
    h += '<label class="check"><input type="checkbox" id="s-loops"' + (state.loops ? ' checked' : '') + '> self-loops (A + I, s = 1)</label>';
    h += '<h2>Features and depth</h2>' + slider('sigma') + '<p class="hint">class means \u00b11: gap(0) = 2</p>' + slider('alpha') + slider('depth');
    h += '<h2>Measured cells</h2><p class="hint pin" id="pin-note">Showing a stored cell at its exact settings; ' +
      'moving a graph or feature slider leaves it.</p><div id="cells"></div>';
    $('controls').innerHTML = h;
    Object.keys(SLIDERS).forEach(function (name) {
      $('s-' + name).addEventListener('input', function (ev) {
        if (state.pin && name !== 'depth') unpin();
        state.k[name] = +ev.target.value; render();
      });
    });
    $('s-loops').addEventListener('change', function (ev) { unpin(); state.loops = ev.target.checked; render(); });
    Array.prototype.forEach.call(document.querySelectorAll('input[type=radio]'), function (r) {
      r.addEventListener('change', function (ev) {
        var prev = params();
        if (ev.target.name === 'mode') unpin();
        state[ev.target.name] = ev.target.value;
        if (ev.target.name === 'mode') syncMode(prev);
        render();
      });
    });
    buildCells();
  }
  function snap(prev, which) {  // put the sliders of one parametrisation at the graph prev (nearest slider values)
    if (which === 'pq') { state.k.p = nearest(SLIDERS.p, prev.p); state.k.q = nearest(SLIDERS.q, prev.q); }
    else {
      state.k.lam = nearest(SLIDERS.lam, T.lam(prev.p, prev.q) || 0.05);
      state.k.c = nearest(SLIDERS.c, (prev.n / 2) * (prev.p + prev.q));
    }
  }
  function syncMode(prev) {  // keep the graph when switching parametrisation
    snap(prev, state.mode);
    ['p', 'q', 'lam', 'c'].forEach(function (k) { $('s-' + k).value = state.k[k]; });
  }
  function setFromCell(cell) {
    state.op = cell.operator; state.loops = cell.self_loops; state.mode = 'lamc';
    state.k.n = nearest(SLIDERS.n, cell.n);
    state.k.lam = nearest(SLIDERS.lam, T.lam(cell.p, cell.q));
    state.k.c = nearest(SLIDERS.c, (cell.n / 2) * (cell.p + cell.q));
    state.k.sigma = nearest(SLIDERS.sigma, cell.sigma);
    if (cell.alpha !== null) state.k.alpha = nearest(SLIDERS.alpha, cell.alpha);
    snap(cell, 'pq');
    // the cell's exact settings (they need not lie on the sliders' grids) until a slider moves
    state.pin = {n: cell.n, p: cell.p, q: cell.q, sigma: cell.sigma, alpha: cell.alpha};
    Object.keys(SLIDERS).forEach(function (name) { $('s-' + name).value = state.k[name]; });
    $('s-loops').checked = state.loops;
    Array.prototype.forEach.call(document.querySelectorAll('input[type=radio]'), function (r) { r.checked = state[r.name] === r.value; });
    render();
  }
  function unpin() {
    if (!state.pin) return;
    state.pin = null;
    snap(params(), state.mode === 'lamc' ? 'pq' : 'lamc');
  }
  function shownValue(name) {
    var pin = state.pin;
    if (!pin) return val(name);
    return {n: pin.n, lam: T.lam(pin.p, pin.q), c: (pin.n / 2) * (pin.p + pin.q), p: pin.p, q: pin.q, sigma: pin.sigma,
      alpha: pin.alpha !== null ? pin.alpha : val('alpha'), depth: val('depth')}[name];
  }
  function cellLabel(c) {
    var l = T.lam(c.p, c.q), cc = (c.n / 2) * (c.p + c.q);
    return c.operator + (c.operator === 'appnp' ? ' \u03b1=' + c.alpha : '') + ' \u00b7 N=' + c.n + ' \u00b7 \u03bb=' +
      (+l.toFixed(3)) + ' \u00b7 c=' + (+cc.toFixed(2)) + (c.sigma !== 1 ? ' \u00b7 \u03c3=' + c.sigma : '');
  }
  function buildCells() {
    var cells = D.cells || [];
    if (!cells.length) { $('cells').innerHTML = '<p class="hint">none stored in this page (built without a grid)</p>'; return; }
    $('cells').innerHTML = '<p class="hint">' + PL.esc(D.cells_source) + ': click to move the sliders there</p><div class="chips">' +
      cells.map(function (c, i) { return '<button type="button" class="chip" data-cell="' + i + '">' + PL.esc(cellLabel(c)) + '</button>'; }).join('') + '</div>';
    Array.prototype.forEach.call(document.querySelectorAll('button.chip'), function (b) {
      b.addEventListener('click', function () { setFromCell(cells[+b.getAttribute('data-cell')]); });
    });
  }
  function close(a, b) { return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300); }
  function matchCell(pr) {
    var cells = D.cells || [];
    for (var i = 0; i < cells.length; i++) {
      var c = cells[i];
      if (c.operator === pr.operator && c.n === pr.n && close(c.p, pr.p) && close(c.q, pr.q) && close(c.sigma, pr.sigma) &&
          c.self_loops === pr.self_loops && (c.operator !== 'appnp' || close(c.alpha, pr.alpha))) return i;
    }
    return -1;
  }

  // ---------------- views ----------------
  function range(vals, floor) {
    var v = vals.filter(function (x) { return x !== null && isFinite(x) && x > 0; });
    var lo = Math.max(Math.min.apply(null, v), floor), hi = Math.max.apply(null, v);
    return [Math.pow(10, Math.floor(Math.log10(lo) - 0.05)), 1.4 * Math.pow(10, Math.ceil(Math.log10(hi) - 1e-9))];
  }
  function pts(ys, scale, depths) {
    return (ys || []).map(function (y, i) { return [depths ? depths[i] : i, y === null ? null : (scale ? Math.abs(y) / scale : y)]; });
  }
  function fig(id, title, spec, note) {
    spec.id = id;
    $(id).innerHTML = '<figcaption>' + title + '</figcaption>' + PL.chart(spec) + PL.legend(spec.series) +
      (note ? '<p class="note">' + note + '</p>' : '');
  }
  function num(v, dig) { return v === null || !isFinite(v) ? '\u2014' : String(+v.toPrecision(dig || 4)); }

  function render() {
    Object.keys(SLIDERS).forEach(function (name) { $('o-' + name).textContent = PL.fmt(+shownValue(name).toPrecision(4)); });
    $('pin-note').style.display = state.pin ? '' : 'none';
    $('g-lamc').style.display = state.mode === 'lamc' ? '' : 'none';
    $('g-pq').style.display = state.mode === 'pq' ? '' : 'none';
    $('ctl-alpha').className = 'ctl' + (state.op === 'appnp' ? '' : ' off');
    var pr = params();
    if (!(pr.p <= 1 && pr.q <= 1 && pr.p + pr.q > 0)) {
      $('readout').innerHTML = '<div class="card warn">p = ' + num(pr.p) + ', q = ' + num(pr.q) +
        ': a probability must be in [0, 1]. Lower the degree or raise N.</div>';
      ['fig-gap', 'fig-var', 'fig-err', 'fig-depth'].forEach(function (id) { $(id).innerHTML = ''; });
      $('best-depth-value').textContent = '\u2014';
      $('best-depth-value').setAttribute('data-depth', '');
      $('best-depth-sub').textContent = 'no graph at these settings';
      return;
    }
    writeHash(pr);
    var th = T.curves(pr), ci = matchCell(pr), cell = ci >= 0 ? D.cells[ci] : null;
    OS.current = th;
    readout(pr, th, cell);
    gapFig(pr, th, cell);
    varFig(pr, th, cell);
    errFig(pr, th, cell);
    depthFig(pr, th);
    Array.prototype.forEach.call(document.querySelectorAll('button.chip'), function (b) {
      b.className = 'chip' + (+b.getAttribute('data-cell') === ci ? ' on' : '');
    });
  }

  function readout(pr, th, cell) {
    var det = th.c * th.lam * th.lam, best = th.best_depth, bd = $('best-depth-value');
    bd.textContent = best === null ? '\u2014' : (best === pr.depth ? '\u2265 ' : '') + best;
    bd.setAttribute('data-depth', best === null ? '' : String(best));
    $('best-depth-sub').innerHTML = best === null ? 'no variance formula for the corrected operator' :
      'error ' + (th.bayes[best] === 0 ? '0 (Φ underflows: see the error plot)' : PL.fmt(th.bayes[best])) + (best === pr.depth ? ' (at the edge: widen the depth range)' : '') +
      ' \u00b7 log N / log d = ' + num(Math.log(pr.n) / Math.log(th.d), 3);
    var cards = [
      ['\u03bb', num(th.lam), 'p = ' + num(pr.p, 3) + ', q = ' + num(pr.q, 3)],
      ['c, d', num(th.c, 4) + ', ' + num(th.d, 4), 'neighbours; d = ' + (pr.self_loops ? 'c + 1 (self-loop)' : 'c (no self-loop)')],
      ['\u03bd (ours)', num(th.nu), th.nu === null ? 'undefined: c\u03bb\u00b2 = ' + num(det, 3) + ' \u2264 1' : 'c\u03bb\u00b2 = ' + num(det, 3) + ' > 1'],
      ['\u03a3\u03c0\u00b2', PL.fmt(th.pi_sq_sum), 'saturation; 1/N = ' + PL.fmt(1 / pr.n)]
    ];
    if (pr.operator === 'appnp') cards.push(['g*/gap(0)', num(th.g_star / th.gap0), 'floor \u03b1\u00b2\u03c3\u00b2 = ' + PL.fmt(th.ppr_floor)]);
    var meas = cell ? 'measured cell: ' + cell.seeds + ' seed(s), variance ' + PL.esc(cell.variance_method) :
      'no measured cell at these settings';
    $('readout').innerHTML = cards.map(function (c) {
      return '<div class="card"><div class="k">' + c[0] + '</div><div class="v">' + c[1] + '</div><div class="s">' + c[2] + '</div></div>';
    }).join('') + '<div class="card meas' + (cell ? ' hit' : '') + '" id="measured-status" data-cell="' + (cell ? D.cells.indexOf(cell) : -1) +
      '"><div class="k">data</div><div class="s">' + meas + '</div></div>';
  }

  function gapFig(pr, th, cell) {
    var g0 = th.gap0, appnp = pr.operator === 'appnp', series = [], all = [];
    series.push({kind: 'line', pts: pts(th.gap, g0), color: COL.paper, dash: '7 5', label: appnp ?
      'APPNP recursion with \u03bb (paper)' : '\u03bb<sup>n</sup> (paper, dense)'});
    series.push({kind: 'line', pts: pts(th.gap_nu, g0), color: COL.ours, width: 2.6, label: appnp ?
      'APPNP recursion with \u03bd (ours)' : '\u03bd<sup>n</sup> (ours, finite degree)'});
    if (appnp) {
      var gcn = T.curves({n: pr.n, p: pr.p, q: pr.q, sigma: pr.sigma, operator: 'gcn', alpha: pr.alpha, self_loops: pr.self_loops, depth: pr.depth});
      series.push({kind: 'line', pts: pts(gcn.gap_nu, g0), color: COL.gcn, width: 1.6, label: 'GCN \u03bd<sup>n</sup>, for comparison'});
      series.push({kind: 'hline', y: Math.abs(th.g_star) / g0, color: COL.paper, width: 1.3, dash: '2 4', label: 'fixed point |g*| with λ'});
      all.push(Math.abs(th.g_star) / g0);
      if (th.nu !== null) {
        var gnu = Math.abs(T.pprFixedPoint(th.nu, pr.alpha, g0)) / g0;
        series.push({kind: 'hline', y: gnu, color: COL.ours, width: 1.3, dash: '2 4', label: 'with ν'});
        all.push(gnu);
      }
    }
    if (cell) series.push({kind: 'points', pts: pts(cell.gap, g0, cell.depths), color: COL.meas, label: 'measured |gap|/gap(0)'});
    series.forEach(function (s) { (s.pts || []).forEach(function (p) { all.push(p[1]); }); });
    var r = range(all, 1e-16);
    var notes = [];
    if (th.lam < 0) notes.push('\u03bb < 0 (heterophily): the gap alternates in sign; |gap| is drawn.');
    if (th.nu !== null && Math.abs(th.nu - th.lam) < 2e-3 && !appnp) notes.push('Here ν ≈ λ: the two lines coincide.');
    if (th.nu === null) notes.push('\u03bd is undefined below the detectability threshold c\u03bb\u00b2 \u2264 1: only \u03bb<sup>n</sup> is drawn.');
    if (pr.operator === 'corrected') notes.push('The corrected operator P \u2212 1\u03c0<sup>T</sup> shifts every node alike: its mean gap is GCN\u2019s.');
    fig('fig-gap', 'Mean gap |\u03bc<sub>2</sub>(n) \u2212 \u03bc<sub>1</sub>(n)| / gap(0)', {width: 540, height: 300,
      xmin: 0, xmax: pr.depth, xinteger: true, ylog: true, ymin: r[0], ymax: Math.min(r[1], 10), xlabel: 'depth n (layers)',
      ylabel: '|gap(n)| / gap(0)', series: series}, notes.join(' '));
  }

  function varFig(pr, th, cell) {
    var s2 = pr.sigma * pr.sigma, series = [], all = [s2 / pr.n, s2];
    if (pr.operator !== 'corrected') {
      series.push({kind: 'band', y: th.variance_lower, y2: th.variance_upper, color: COL.bound, label: 'paper\u2019s bounds [\u03c3\u00b2/N, \u03c3\u00b2]'});
      series.push({kind: 'hline', y: th.variance_lower, color: COL.bound, width: 1.5, dash: '6 4'});
      series.push({kind: 'line', pts: pts(th.variance), color: COL.cat, width: 2.6, label: pr.operator === 'appnp' ?
        'APPNP pairs-of-walks variance (ours)' : '\u03c3\u00b2(\u03a3\u03c0\u00b2 + C<sub>n</sub>/d<sup>n</sup>) Catalan (ours)'});
      series.push({kind: 'hline', y: s2 * th.pi_sq_sum, color: COL.cat, width: 1.3, dash: '2 3', label: 'saturation \u03c3\u00b2\u03a3\u03c0\u00b2'});
      if (pr.operator === 'appnp') {
        var gcn = T.curves({n: pr.n, p: pr.p, q: pr.q, sigma: pr.sigma, operator: 'gcn', alpha: pr.alpha, self_loops: pr.self_loops, depth: pr.depth});
        series.push({kind: 'line', pts: pts(gcn.variance), color: COL.gcn, width: 1.6, label: 'GCN Catalan curve, for comparison'});
        series.push({kind: 'hline', y: th.ppr_floor, color: COL.ppr, dash: '7 4', label: 'APPNP floor \u03b1\u00b2\u03c3\u00b2'});
      }
    }
    if (cell) series.push({kind: 'points', pts: pts(cell.feature_variance, 0, cell.depths), color: COL.meas, label: 'measured feature-noise variance'});
    series.forEach(function (s) { (s.pts || []).forEach(function (p) { all.push(p[1]); }); });
    var r = range(all, 1e-16);
    var note = pr.operator === 'corrected' ? 'No variance formula: rows of (P \u2212 1\u03c0<sup>T</sup>)<sup>n</sup> are not probability vectors, so ' +
      '[\u03c3\u00b2/N, \u03c3\u00b2] does not apply (noise and gap both shrink). Measured points only, where a cell is stored.' :
      'Var<sub>x</sub>(h<sub>i</sub>(n)) = \u03c3\u00b2\u2016row i of M<sub>n</sub>\u2016\u00b2, averaged over nodes; never the cross-sectional spread of one realisation.';
    fig('fig-var', 'Feature-noise variance (\u03c3(n))\u00b2', {width: 540, height: 300, xmin: 0, xmax: pr.depth, xinteger: true,
      ylog: true, ymin: r[0], ymax: r[1], xlabel: 'depth n (layers)', ylabel: 'variance', series: series}, note);
  }

  function errFig(pr, th, cell) {
    var series = [], all = [], markers = [];
    if (pr.operator !== 'corrected') {
      series.push({kind: 'line', pts: pts(th.log10_bayes_paper), color: COL.paper, dash: '7 5', label: 'with the \u03bb gap (paper)'});
      series.push({kind: 'line', pts: pts(th.log10_bayes), color: COL.ours, width: 2.6, label: th.nu === null ?
        'with the \u03bb gap (\u03bd undefined): the package\u2019s prediction' : 'with the \u03bd gap (ours): the package\u2019s prediction'});
      markers.push({x: th.best_depth, label: 'best depth ' + th.best_depth, color: COL.ours});
      if (th.underflow) series.push({kind: 'hline', y: Math.log10(Number.MIN_VALUE), color: COL.bound, dash: '3 3', width: 1.5,
        label: 'Φ = 0 below here (double precision)'});
    }
    function lg(v) { return (v || []).map(function (x) { return x === null || !(x > 0) ? null : Math.log10(x); }); }
    if (cell) {
      series.push({kind: 'points', pts: pts(lg(cell.bayes_error), 0, cell.depths), color: COL.meas, label: 'measured (from the measured gap and variance)'});
      series.push({kind: 'points', pts: pts(lg(cell.realised_error), 0, cell.depths), color: COL.real, r: 3.4, label: 'realised error of the best threshold on h(n)'});
    }
    series.forEach(function (s) { (s.pts || []).forEach(function (p) { if (p[1] !== null && isFinite(p[1])) all.push(p[1]); }); });
    var lo = all.length ? Math.min.apply(null, all) : -1, hi = all.length ? Math.max.apply(null, all) : 0;
    var ymin = Math.floor(lo - 0.1), ymax = Math.min(0, Math.ceil(hi + 0.1));
    if (ymax <= ymin) ymax = ymin + 1;
    var note = pr.operator === 'corrected' ? 'No predicted error for the corrected operator (no variance formula); measured points only.' :
      'Bayes error of two equal-prior Gaussians: \u03a6(\u2212|gap(n)|/(2 sd(n))), predicted gap and Catalan variance.';
    if (th.underflow) note += ' <b>Below 10\u207b\u00b3\u2070\u2078 \u03a6 is 0 in double precision</b>: the package\u2019s optimal_depth takes the ' +
      'shallowest depth among those zeros (drawn here from log \u03a6, which does not underflow).';
    fig('fig-err', 'Bayes error and the best depth', {width: 540, height: 300, xmin: 0, xmax: pr.depth, xinteger: true,
      ylog: true, prelog: true, ymin: ymin, ymax: ymax, xlabel: 'depth n (layers)', ylabel: 'Bayes error (log scale)',
      series: series, markers: markers}, note);
  }

  function depthFig(pr, th) {
    if (pr.operator === 'corrected') { fig('fig-depth', 'Predicted best depth vs N', {width: 540, height: 300, xmin: 100, xmax: 1e6,
      xlog: true, ymin: 0, ymax: 1, xlabel: 'N', ylabel: 'best depth', series: []}, 'No prediction for the corrected operator.'); return; }
    var lam = th.lam, c = th.c, best = [], ld = [], lll = [], top = 1;
    for (var e = 2; e <= 6.0001; e += 0.125) {
      var n = Math.round(Math.pow(10, e)), pq = T.csbmPQ(n, c, lam);
      if (!(pq[0] <= 1 && pq[1] <= 1)) continue;
      var t = T.curves({n: n, p: pq[0], q: pq[1], sigma: pr.sigma, operator: pr.operator, alpha: pr.alpha,
        self_loops: pr.self_loops, depth: pr.depth});
      best.push([n, t.best_depth]); ld.push([n, Math.log(n) / Math.log(t.d)]); lll.push([n, Math.log(n) / Math.log(Math.log(n))]);
      top = Math.max(top, t.best_depth, Math.log(n) / Math.log(t.d));
    }
    var series = [
      {kind: 'step', pts: best, color: COL.ours, width: 2.6, label: 'predicted best depth n*'},
      {kind: 'line', pts: ld, color: COL.bound, dash: '7 5', label: 'log N / log d'},
      {kind: 'line', pts: lll, color: COL.bound, dash: '2 3', label: 'log N / log log N'}
    ];
    fig('fig-depth', 'Predicted best depth vs N (\u03bb, c and \u03c3 held)', {width: 540, height: 300, xmin: 100, xmax: 1e6, xlog: true,
      ymin: 0, ymax: Math.min(pr.depth, Math.ceil(top + 1)), xlabel: 'N (nodes, log scale)', ylabel: 'depth', series: series,
      markers: [{x: pr.n, label: 'N = ' + PL.fmt(pr.n), color: COL.meas}]},
      'Capped at the depth range (' + pr.depth + '). The best depth grows like log N / log d (SCIENCE.md \u00a74).');
  }

  function fromHash() {  // e.g. #n=2000&lam=0.5&c=10&sigma=1&op=appnp&alpha=0.1&depth=24&loops=1
    var h = (location.hash || '').replace(/^#/, '');
    if (!h) return;
    h.split('&').forEach(function (kv) {
      var parts = kv.split('='), k = parts[0], v = decodeURIComponent(parts[1] || '');
      if (k === 'op' && /^(gcn|appnp|corrected)$/.test(v)) state.op = v;
      else if (k === 'loops') state.loops = v !== '0';
      else if (k === 'mode' && /^(lamc|pq)$/.test(v)) state.mode = v;
      else if (SLIDERS[k] && isFinite(+v)) state.k[k] = nearest(SLIDERS[k], +v);
    });
  }
  function writeHash(pr) {  // a shareable link to the current settings
    var h = 'n=' + pr.n + '&' + (state.mode === 'lamc' ? 'lam=' + val('lam') + '&c=' + val('c') : 'mode=pq&p=' + pr.p + '&q=' + pr.q) +
      '&sigma=' + pr.sigma + '&op=' + pr.operator + (pr.operator === 'appnp' ? '&alpha=' + pr.alpha : '') + '&depth=' + pr.depth +
      (pr.self_loops ? '' : '&loops=0');
    try { history.replaceState(null, '', '#' + h); } catch (err) { /* some file:// contexts refuse: the page still works */ }
  }
  fromHash();
  snap(params(), state.mode === 'lamc' ? 'pq' : 'lamc');  // the other parametrisation's sliders start at the same graph
  buildControls();
  $('footer').textContent = 'Built by oversmooth ' + D.version + (D.build_seconds !== null ? ' in ' + D.build_seconds + ' s' : '') +
    '. Measured points: ' + D.cells_source + ' (' + (D.cells || []).length + ' cells; mean over seeds). ' +
    'No network: everything this page shows is inside it.';
  render();
  OS.render = render;
  OS.state = state;
})(window.OversmoothExplorer);
